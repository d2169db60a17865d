package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/executors/shell"
)

// sandboxFlags say how a worker runs shell tasks: in a sandbox (the
// default) or, by the operator's explicit choice, on the host.
type sandboxFlags struct {
	mode   string
	dir    string
	user   string
	shares repeatedFlag
}

// register adds the sandbox's flags to fs, with defaults from the environment.
func (f *sandboxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "sandbox", envOr("SANDBOX", "on"), "on: every shell task runs in a sandbox of its own; off: on this machine as this process's user, with its files and environment (SANDBOX)")
	fs.StringVar(&f.dir, "sandbox-dir", os.Getenv("SANDBOX_DIR"), "where sandboxed tasks' work directories live while they run (SANDBOX_DIR; default: /var/lib/axontask-sandbox for root, ~/.cache/axontask-sandbox otherwise)")
	fs.StringVar(&f.user, "sandbox-user", os.Getenv("SANDBOX_USER"), "host uids and gid of sandboxed tasks when the worker runs as root, first-last:gid (a uid for each task running at once) or uid:gid (one for all) (SANDBOX_USER; default 1500000000-1500065535:65534)")
	f.shares = splitShares(os.Getenv("SANDBOX_SHARES"))
	fs.Var(&f.shares, "share", "name=/host/dir[:rw]: a host directory tasks see as /work/name, read-only unless :rw; repeat for more (SANDBOX_SHARES, comma-separated)")
}

// repeatedFlag is a flag that may be given several times, such as -share:
// its values in order.
type repeatedFlag []string

func (s *repeatedFlag) String() string { return strings.Join(*s, ",") }

// Set adds one value.
func (s *repeatedFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// splitShares splits SANDBOX_SHARES at its commas.
func splitShares(v string) repeatedFlag {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// parseShare reads name=/host/dir[:rw|:ro].
func parseShare(v string) (sandbox.Share, error) {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		return sandbox.Share{}, fmt.Errorf("share %q: write it as name=/host/dir, or name=/host/dir:rw for a writable one", v)
	}
	sh := sandbox.Share{Name: name, HostPath: path}
	if p, ok := strings.CutSuffix(path, ":rw"); ok {
		sh.HostPath, sh.Writable = p, true
	} else if p, ok := strings.CutSuffix(path, ":ro"); ok {
		sh.HostPath = p
	}
	return sh, nil
}

// parseSandboxUser reads first-last:gid or uid:gid.
func parseSandboxUser(v string) (uid, uids, gid int, err error) {
	ids, g, ok := strings.Cut(v, ":")
	first, last, isRange := strings.Cut(ids, "-")
	if !isRange {
		last = first
	}
	a, err1 := strconv.Atoi(first)
	b, err2 := strconv.Atoi(last)
	gid, err3 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || err3 != nil || a <= 0 || b < a || gid <= 0 {
		return 0, 0, 0, errors.New("not first-last:gid or uid:gid")
	}
	return a, b - a + 1, gid, nil
}

// config returns the sandbox configuration of the flags.
func (f *sandboxFlags) config(logger *slog.Logger, prod bool) (sandbox.Config, error) {
	cfg := sandbox.Config{Dir: f.dir, RequireCgroups: prod, Logger: logger}
	if f.user != "" {
		var err error
		if cfg.UID, cfg.UIDs, cfg.GID, err = parseSandboxUser(f.user); err != nil {
			return cfg, fmt.Errorf("-sandbox-user (SANDBOX_USER) is %q; write it as first-last:gid, like 1500000000-1500065535:65534, or uid:gid of one unprivileged user", f.user)
		}
	}
	for _, v := range f.shares {
		sh, err := parseShare(v)
		if err != nil {
			return cfg, err
		}
		cfg.Shares = append(cfg.Shares, sh)
	}
	return cfg, nil
}

// shellRunner is the executor of shell tasks a process runs, what it
// says about the sandbox, and how to release it.
type shellRunner struct {
	executors.Executor
	// State is one line on the sandbox, for dev's banner.
	State string
	Close func()
}

// shellExecutor returns the executor of shell tasks the flags ask for.
// prod (worker) refuses to start when the sandbox cannot run here; dev
// starts, and its shell tasks fail with the reason, so that a developer
// can still run mock tasks and choose.
func (f *sandboxFlags) shellExecutor(logger *slog.Logger, prod bool) (shellRunner, error) {
	off := shellRunner{Close: func() {}}
	switch f.mode {
	case "off":
		logger.Warn("SANDBOX IS OFF: shell tasks run on this machine as this process's user, and can read its files, keys and environment; never do this where more than one person starts tasks")
		e, err := shell.New(shell.Config{Logger: logger})
		off.Executor, off.State = e, "OFF (-sandbox=off): shell tasks run unsandboxed, as this process's user"
		return off, err
	case "on":
	default:
		return off, fmt.Errorf("-sandbox (SANDBOX) is %q; set it to on, or off to run shell tasks unsandboxed", f.mode)
	}
	cfg, err := f.config(logger, prod)
	if err != nil {
		return off, err
	}
	sb, err := sandbox.New(cfg)
	switch {
	case err != nil && prod:
		return off, fmt.Errorf("%w; or set SANDBOX=off to run shell tasks unsandboxed (unsafe for shared workers)", err)
	case err != nil:
		logger.Error("shell tasks are refused: the sandbox cannot run here; install what is missing, or restart with -sandbox=off to run them unsandboxed as your user", "err", err)
		off.Executor, off.State = refuseShell{reason: err.Error()}, "UNAVAILABLE: shell tasks are refused (see the log for what is missing; -sandbox=off runs them unsandboxed)"
		return off, nil
	}
	r := sb.Report
	if r.Cgroups == "none" {
		logger.Warn("sandbox: no cgroups for tasks; memory is bounded per process and CPU not at all (run as root, or give the worker a delegated cgroup)", "why", r.CgroupsMissing)
	}
	if r.WorkDirWhy != "" {
		logger.Warn("sandbox: tasks' work directories are measured every second, not bounded by a filesystem of their own; a task can take more disk than its plan allows for a moment, or hold it in deleted files", "why", r.WorkDirWhy)
	}
	logger.Info("sandbox on", "cgroups", r.Cgroups, "landlock_abi", r.Landlock, "task_uids", r.UIDs, "work_dir", r.WorkDir, "shares", len(cfg.Shares))
	e, err := shell.New(shell.Config{Sandbox: sb, Logger: logger})
	if err != nil {
		sb.Close()
		return off, err
	}
	state := fmt.Sprintf("on (cgroups %s, Landlock ABI %d, task uids %s", r.Cgroups, r.Landlock, r.UIDs)
	for _, sh := range cfg.Shares {
		state += fmt.Sprintf(", /work/%s = %s", sh.Name, sh.HostPath)
	}
	return shellRunner{Executor: e, State: state + ")", Close: sb.Close}, nil
}

// refuseShell is the shell executor of a dev server whose sandbox cannot
// run: every shell task fails with the reason and what to do.
type refuseShell struct{ reason string }

// Run fails the task with the sandbox's missing piece.
func (r refuseShell) Run(context.Context, executors.Task, executors.Sink) (executors.Result, error) {
	return executors.Result{}, &executors.StartError{Err: errors.New("shell tasks are off on this server because the sandbox cannot run here (" + r.reason + "); install what is missing, or restart `axontask dev -sandbox=off` to run them unsandboxed as your user")}
}
