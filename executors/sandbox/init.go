//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"

	"github.com/axontask/axontask/executors/internal/command"
)

// File descriptors init is started with, besides stdin, stdout and stderr.
const (
	statusFD = 3 // init writes one initStatus line here before it exits
	specFD   = 4 // init reads its initSpec here
)

// maxSpecBytes bounds the spec init reads: argv and environment are
// bounded far below it by the task's validation.
const maxSpecBytes = 4 << 20

// initSpec is what the worker tells init to do.
type initSpec struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	// Dir is the command's working directory, inside the sandbox.
	Dir     string          `json:"dir"`
	Rlimits []rlimit        `json:"rlimits"`
	Grace   time.Duration   `json:"grace"`
	Paths   landlockPathSet `json:"paths"`
	// Egress: serve the worker's proxy on proxyAddr inside the sandbox.
	Egress bool `json:"egress,omitempty"`
}

// rlimit is one resource limit init sets on itself, for everything the
// command starts to inherit.
type rlimit struct {
	Resource int    `json:"resource"`
	Value    uint64 `json:"value"`
}

// landlockPathSet is what Landlock lets the task read, and write.
type landlockPathSet struct {
	ReadOnly []string `json:"read_only"`
	Writable []string `json:"writable"`
}

// initStatus is how the command ended, as init reports it.
type initStatus struct {
	// StartError says why the command could not start; the rest is unset then.
	StartError string `json:"start_error,omitempty"`
	ExitCode   int    `json:"exit_code"`
	// Signal is the signal that killed the command; 0 if it exited.
	Signal int `json:"signal,omitempty"`
	// Leftovers: the command left processes running; init stopped them.
	Leftovers bool `json:"leftovers,omitempty"`
	// Landlock is the Landlock ABI version that was enforced; 0: none.
	Landlock int `json:"landlock,omitempty"`
}

// Init runs this process as a sandbox's init when it was started as one
// (its argv[0] is InitPath), and then never returns; in any other process
// it returns at once. Call it first thing in main, and in TestMain of
// tests that run sandboxed tasks.
func Init() {
	if len(os.Args) == 0 || os.Args[0] != InitPath || os.Getpid() != 1 {
		return
	}
	os.Exit(runInit())
}

// runInit is init's life: read the spec, wall itself in, start the
// command, forward signals, reap, report; it returns init's exit code.
func runInit() int {
	// Landlock walls in this thread only, which must fork the command. The
	// command starts with the signal mask of the thread that forks it, and
	// init may have been started with signals blocked (a Go parent forks
	// from whichever thread it runs on): it unblocks them all, so that the
	// command, and init's own handlers, get SIGTERM.
	runtime.LockOSThread()
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil)
	// Nothing init was started with, but stdin, stdout and stderr, may
	// reach the command: bwrap's and the worker's descriptors (some point
	// at host directories) close at its exec.
	_ = unix.CloseRange(statusFD, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	status := os.NewFile(statusFD, "status")
	report := func(st initStatus) int {
		_ = json.NewEncoder(status).Encode(st)
		if st.StartError != "" {
			return 127
		}
		if st.Signal != 0 {
			return 128 + st.Signal
		}
		return st.ExitCode
	}
	spec, err := readSpec()
	if err != nil {
		return report(initStatus{StartError: "sandbox init: " + err.Error()})
	}
	abi, err := wallIn(spec)
	if err != nil {
		return report(initStatus{StartError: "sandbox init: " + err.Error()})
	}
	// The task may not read or write init's memory and files through
	// /proc/1, even where Landlock is missing (the command is dumpable
	// again once it execs).
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// Signals first: a SIGTERM from the worker must not kill init before
	// it can pass the signal on.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGCHLD)
	if spec.Egress {
		if err := serveEgress(); err != nil {
			return report(initStatus{StartError: "sandbox init: " + err.Error(), Landlock: abi})
		}
	}
	pid, err := startCommand(spec)
	if err != nil {
		return report(initStatus{StartError: err.Error(), Landlock: abi})
	}
	st := superviseCommand(pid, spec.Grace, sigs)
	st.Landlock = abi
	return report(st)
}

// readSpec reads the spec from specFD and closes it.
func readSpec() (initSpec, error) {
	f := os.NewFile(specFD, "spec")
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
	if err != nil {
		return initSpec{}, fmt.Errorf("read spec: %w", err)
	}
	if len(b) > maxSpecBytes {
		return initSpec{}, fmt.Errorf("spec is over %d bytes", maxSpecBytes)
	}
	var spec initSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return initSpec{}, fmt.Errorf("decode spec: %w", err)
	}
	if len(spec.Argv) == 0 {
		return initSpec{}, errors.New("spec has no command")
	}
	return spec, nil
}

// wallIn sets the rlimits, Landlock and the seccomp filter on init, in
// that order (Landlock's own calls must come before the filter); the
// command inherits them all. It returns the Landlock ABI enforced, 0 where
// the kernel has none.
func wallIn(spec initSpec) (int, error) {
	for _, l := range spec.Rlimits {
		if err := unix.Setrlimit(l.Resource, &unix.Rlimit{Cur: l.Value, Max: l.Value}); err != nil {
			return 0, fmt.Errorf("set rlimit %d to %d: %w", l.Resource, l.Value, err)
		}
	}
	abi, err := restrictThread(spec.Paths)
	if err != nil {
		return 0, fmt.Errorf("landlock: %w", err)
	}
	if err := seccomp.LoadFilter(seccompFilter()); err != nil {
		return 0, fmt.Errorf("load the seccomp filter: %w", err)
	}
	if err := loadNativeOnly(); err != nil {
		return 0, err
	}
	return abi, nil
}

// restrictThread walls the calling thread in with Landlock: paths read-only
// or writable as ps says, signals and abstract sockets scoped to the task.
// It returns the ABI enforced, 0 where the kernel has no Landlock.
//
// Only this thread: the command inherits the domain of the thread that
// forks it, and init forks it from this one (runInit locks it). Walling
// in every thread of init would go through go-landlock's all-threads
// path, whose signal games leave some threads with every signal blocked,
// and a command forked from one of those starts deaf to SIGTERM.
func restrictThread(ps landlockPathSet) (int, error) {
	abi, _ := ll.LandlockGetABIVersion()
	cfg := landlock.Config{HandledAccessFS: landlock.V6.HandledAccessFS, Scoped: landlock.V6.Scoped}.BestEffort()
	fd, flags, err := cfg.NewRulesetFD(
		landlock.RODirs(existing(ps.ReadOnly, true)...),
		landlock.ROFiles(existing(ps.ReadOnly, false)...),
		landlock.RWDirs(existing(ps.Writable, true)...),
		landlock.RWFiles(existing(ps.Writable, false)...),
	)
	if err != nil || fd < 0 {
		return 0, err
	}
	defer func() { _ = unix.Close(fd) }()
	if err := ll.LandlockRestrictSelf(fd, flags); err != nil {
		return 0, err
	}
	return min(abi, 6), nil
}

// existing returns the paths that exist and are directories (dirs true)
// or not (dirs false).
func existing(paths []string, dirs bool) []string {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err == nil && fi.IsDir() == dirs {
			out = append(out, p)
		}
	}
	return out
}

// startCommand starts the task's command in its working directory with
// stdin, stdout and stderr of init, and nothing else open.
func startCommand(spec initSpec) (int, error) {
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return 0, fmt.Errorf("create the working directory %s: %w", spec.Dir, err)
	}
	path, err := command.LookPath(spec.Argv[0], spec.Dir, spec.Env)
	if err != nil {
		return 0, err
	}
	p, err := os.StartProcess(path, spec.Argv, &os.ProcAttr{
		Dir:   spec.Dir,
		Env:   spec.Env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return 0, command.StartError(spec.Argv[0], path, spec.Dir, err)
	}
	pid := p.Pid
	_ = p.Release() // init reaps with wait4(-1), not through os.Process
	return pid, nil
}

// superviseCommand passes termination signals on to every process of the
// sandbox and reaps them all until the command exits; then it stops what
// the command left running (SIGTERM, then SIGKILL after grace) and
// returns how the command ended.
func superviseCommand(pid int, grace time.Duration, sigs <-chan os.Signal) initStatus {
	var st initStatus
	for exited := false; !exited; {
		sig := <-sigs
		if sig != unix.SIGCHLD {
			signalAll(sig.(unix.Signal))
			continue
		}
		exited = reap(pid, &st)
	}
	if !othersAlive() {
		return st
	}
	st.Leftovers = true
	signalAll(unix.SIGTERM)
	deadline := time.After(grace)
	for othersAlive() {
		select {
		case <-deadline:
			_ = unix.Kill(-1, unix.SIGKILL)
			return st
		case <-sigs:
			reap(0, nil)
		case <-time.After(20 * time.Millisecond):
			reap(0, nil)
		}
	}
	return st
}

// signalAll sends sig, then SIGCONT (so that a stopped process gets it),
// to every process of the sandbox but init.
func signalAll(sig unix.Signal) {
	_ = unix.Kill(-1, sig)
	_ = unix.Kill(-1, unix.SIGCONT)
}

// reap reaps every child that has exited; it reports whether one of them
// was pid, whose end it records in st.
func reap(pid int, st *initStatus) bool {
	found := false
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || got <= 0 {
			return found
		}
		if got == pid && (ws.Exited() || ws.Signaled()) {
			found = true
			st.ExitCode = ws.ExitStatus()
			if ws.Signaled() {
				st.Signal = int(ws.Signal())
			}
		}
	}
}

// othersAlive reports whether a process other than init lives in the
// sandbox, reaping the ones that have exited.
func othersAlive() bool {
	reap(0, nil)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && n != 1 {
			if _, err := os.Stat(filepath.Join("/proc", e.Name())); err == nil {
				return true
			}
		}
	}
	return false
}
