package shell

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// drainTimeout bounds the wait for a task's pipes to close once its process
// group is dead. Only a process that left the group (setsid) can hold them
// open longer; its remaining output is dropped.
const drainTimeout = 2 * time.Second

// Executor runs shell tasks: an argv, without a shell unless the argv names
// one. It holds no per-task state: one Executor may run any number of tasks
// concurrently. Create it with New.
type Executor struct {
	cfg Config
}

var _ executors.Executor = (*Executor)(nil)

// New returns an Executor for cfg, with cfg's zero fields set to their
// defaults, or an error naming the fields that cannot work.
func New(cfg Config) (*Executor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Executor{cfg: cfg}, nil
}

// Run runs task, whose Args must be a valid *domain.ShellArgs, and returns
// when its process group is dead and its output has been delivered to
// sink. Sink calls are serialized, and none happen after Run returns.
//
// The command runs in its own process group, with stdin from /dev/null,
// the allow-listed worker environment plus args.env, and its working
// directory (see Config.DefaultDir). stdout and stderr are read
// concurrently and forwarded separately; stdout carries the progress
// protocol (see the package documentation).
//
// When the main process exits, Run returns its exit code in Result (a
// process killed by a signal gets 128+signal, as in shells) with a nil
// error, whatever the code. Processes it left running in its group are
// stopped first (SIGTERM, then SIGKILL after the grace period); the Result
// summary says so. When ctx is done first, the whole group is stopped the
// same way and Run returns an error wrapping context.Cause(ctx). A task
// that could not start (bad args, command not found or not executable,
// working directory missing) gets a *executors.StartError that says what
// to fix, and reports nothing to sink.
func (e *Executor) Run(ctx context.Context, task executors.Task, sink executors.Sink) (executors.Result, error) {
	args, err := shellArgs(task.Args)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	if ctx.Err() != nil {
		return executors.Result{}, fmt.Errorf("shell task canceled before it started: %w", context.Cause(ctx))
	}
	dir, cleanup, err := e.workDir(task.ID, args.Cwd)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	defer cleanup()
	env := environ(e.cfg.EnvAllowList, args.Env)
	path, err := lookPath(args.Command[0], dir, env)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}

	cmd, outR, errR, err := start(path, dir, args.Command, env)
	if err != nil {
		return executors.Result{}, err
	}
	pgid := cmd.Process.Pid // Setpgid: the leader's pid is the group's id

	locked := &lockedSink{sink: sink}
	var readers sync.WaitGroup
	readers.Go((&streamReader{f: outR, stream: domain.Stdout, sink: locked, lines: true, maxLine: e.cfg.MaxLineBytes, delay: e.cfg.FlushDelay}).run)
	readers.Go((&streamReader{f: errR, stream: domain.Stderr, sink: locked, delay: e.cfg.FlushDelay}).run)
	leaderDone := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the status is in cmd.ProcessState
		close(leaderDone)
	}()

	canceled := false
	select {
	case <-leaderDone:
	case <-ctx.Done():
		select {
		case <-leaderDone: // it exited on its own first: keep its result
		default:
			canceled = true
		}
	}
	leftovers := !canceled && groupAlive(pgid)
	dead := true
	if canceled || leftovers {
		dead = stopGroup(pgid, leaderDone, e.cfg.GracePeriod)
	}
	if !dead {
		e.cfg.Logger.Warn("shell task: processes of its group are still alive after SIGKILL; they are left behind",
			"task_id", task.ID, "pgid", pgid, "waited", e.cfg.GracePeriod+reapTimeout)
	}
	e.drain(task.ID, &readers, outR, errR)

	if canceled {
		if !dead {
			return executors.Result{}, fmt.Errorf("shell task canceled (process group %d survived SIGKILL): %w", pgid, context.Cause(ctx))
		}
		return executors.Result{}, fmt.Errorf("shell task canceled: %w", context.Cause(ctx))
	}
	code, summary := exitStatus(cmd.ProcessState)
	if leftovers {
		summary += "; the processes it left running were stopped"
	}
	return executors.Result{ExitCode: code, Summary: summary}, nil
}

// start starts path with argv and env in dir, in a new process group, with
// stdout and stderr on pipes whose read ends it returns. A failure of the
// process to start is a *executors.StartError; a failure to make the pipes
// is the worker's.
func start(path, dir string, argv, env []string) (cmd *exec.Cmd, stdout, stderr *os.File, err error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create the stdout pipe of %q: %w", argv[0], err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return nil, nil, nil, fmt.Errorf("create the stderr pipe of %q: %w", argv[0], err)
	}
	cmd = &exec.Cmd{
		Path:        path,
		Args:        argv,
		Env:         env,
		Dir:         dir,
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	// The child has its copies; ours would keep the pipes open forever.
	closeAll(outW, errW)
	if err != nil {
		closeAll(outR, errR)
		return nil, nil, nil, &executors.StartError{Err: startError(argv[0], path, dir, err)}
	}
	return cmd, outR, errR, nil
}

// drain waits for both stream readers to deliver everything, closing the
// pipes after drainTimeout if something outside the group holds them.
func (e *Executor) drain(taskID string, readers *sync.WaitGroup, pipes ...*os.File) {
	drained := make(chan struct{})
	go func() {
		readers.Wait()
		close(drained)
	}()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-drained:
		return
	case <-t.C:
	}
	e.cfg.Logger.Warn("shell task: a process outside its group still holds its output open; the rest of its output is dropped",
		"task_id", taskID, "waited", drainTimeout)
	closeAll(pipes...) // unblocks the readers' Read
	<-drained
}

// closeAll closes pipe ends. Their errors are ignored: no data is lost by
// closing a pipe end that we only read, or that only the child writes.
func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// exitStatus returns the exit code of a process, 128+signal for one killed
// by a signal, and a one-line summary of it.
func exitStatus(ps *os.ProcessState) (int, string) {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		return 128 + int(sig), fmt.Sprintf("killed by signal %d (%s)", int(sig), sig)
	}
	return ps.ExitCode(), fmt.Sprintf("exit code %d", ps.ExitCode())
}

// workDir returns the working directory of a task, and a cleanup func to
// call once its processes are dead.
func (e *Executor) workDir(taskID, cwd string) (dir string, cleanup func(), err error) {
	noop := func() {}
	switch {
	case cwd != "":
		dir, err := filepath.Abs(cwd)
		if err != nil {
			return "", nil, fmt.Errorf("working directory %q: %w", cwd, err)
		}
		if err := checkDir(dir, "args.cwd"); err != nil {
			return "", nil, err
		}
		return dir, noop, nil
	case e.cfg.DefaultDir != "":
		if err := checkDir(e.cfg.DefaultDir, "the shell executor's DefaultDir"); err != nil {
			return "", nil, err
		}
		return e.cfg.DefaultDir, noop, nil
	}
	dir, err = os.MkdirTemp("", "axontask-"+safeName(taskID)+"-")
	if err != nil {
		return "", nil, fmt.Errorf("create a working directory for the task: %w; make the worker's TMPDIR writable, set the executor's DefaultDir, or give args.cwd", err)
	}
	return dir, func() { e.removeDir(taskID, dir) }, nil
}

// removeDir removes a task's temporary directory, making its directories
// writable first if a plain RemoveAll fails (Go's module cache, for one,
// is read-only).
func (e *Executor) removeDir(taskID, dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		e.cfg.Logger.Warn("shell task: cannot remove its temporary working directory", "task_id", taskID, "dir", dir, "err", err)
	}
}

// safeName keeps the characters of a task id that are safe in a file name.
func safeName(id string) string {
	id = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, id)
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}
