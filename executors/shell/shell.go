package shell

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/internal/workdir"
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
// when every process of the task is dead and its output has been
// delivered to sink. Sink calls are serialized, and none happen after Run
// returns.
//
// With Config.Sandbox set, the command runs in a sandbox of its own (see
// package sandbox), with the task's Limits; otherwise in its own process
// group on the worker's host. Either way it has stdin from /dev/null, the
// allow-listed worker environment plus args.env, and args.cwd inside the
// task's work directory. stdout and stderr are read concurrently and
// forwarded separately; stdout carries the progress protocol (see the
// package documentation).
//
// When the main process exits, Run returns its exit code in Result (a
// process killed by a signal gets 128+signal, as in shells) with a nil
// error, whatever the code. Processes it left running are stopped first
// (SIGTERM, then SIGKILL after the grace period); the Result summary says
// so. When ctx is done first, every process of the task is stopped the
// same way and Run returns an error wrapping context.Cause(ctx). A task
// that could not start (bad args, command not found or not executable)
// gets a *executors.StartError that says what to fix; one the sandbox
// stopped for a limit, a *executors.LimitError.
func (e *Executor) Run(ctx context.Context, task executors.Task, sink executors.Sink) (executors.Result, error) {
	args, err := shellArgs(task.Args)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	env, err := args.Env.Resolve(task.Secrets)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	if ctx.Err() != nil {
		return executors.Result{}, fmt.Errorf("shell task canceled before it started: %w", context.Cause(ctx))
	}
	outR, outW, errR, errW, err := pipes()
	if err != nil {
		return executors.Result{}, err
	}
	var j job
	if e.cfg.Sandbox != nil {
		j, err = e.startSandboxed(task, args, env, outW, errW)
	} else {
		j, err = e.startOnHost(task, args, env, outW, errW)
	}
	// The task has its copies; ours would keep the pipes open forever.
	closeAll(outW, errW)
	if err != nil {
		closeAll(outR, errR)
		return executors.Result{}, err
	}
	defer j.cleanup()

	locked := &lockedSink{sink: sink}
	var readers sync.WaitGroup
	readers.Go((&streamReader{f: outR, stream: domain.Stdout, sink: locked, lines: true, maxLine: e.cfg.MaxLineBytes, delay: e.cfg.FlushDelay}).run)
	readers.Go((&streamReader{f: errR, stream: domain.Stderr, sink: locked, delay: e.cfg.FlushDelay}).run)

	canceled := false
	select {
	case <-j.done():
	case <-ctx.Done():
		select {
		case <-j.done(): // it exited on its own first: keep its result
		default:
			canceled = true
		}
	}
	dead := j.stop(canceled, e.cfg.GracePeriod)
	if !dead {
		e.cfg.Logger.Warn("shell task: processes of the task are still alive after SIGKILL; they are left behind",
			"task_id", task.ID, "waited", e.cfg.GracePeriod+reapTimeout)
	}
	e.drain(task.ID, &readers, outR, errR)
	return j.result(ctx, canceled, dead)
}

// job is one running task: on the host, or in a sandbox.
type job interface {
	// done is closed when the task's main process has ended.
	done() <-chan struct{}
	// stop ends what is left of the task — everything when canceled, the
	// processes the main process left otherwise: SIGTERM, then SIGKILL
	// after grace. It reports whether every process is dead.
	stop(canceled bool, grace time.Duration) bool
	// result says how the task ended.
	result(ctx context.Context, canceled, dead bool) (executors.Result, error)
	// cleanup removes the task's work directory and the like.
	cleanup()
}

// pipes makes the stdout and stderr pipes of a task.
func pipes() (outR, outW, errR, errW *os.File, err error) {
	outR, outW, err = os.Pipe()
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("create the stdout pipe of a task: %w", err)
	}
	errR, errW, err = os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return nil, nil, nil, nil, fmt.Errorf("create the stderr pipe of a task: %w", err)
	}
	return outR, outW, errR, errW, nil
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

// workDir returns the work directory of a task, and a func that removes
// it once the task's processes are dead: Config.DefaultDir, kept, or a
// fresh directory.
func (e *Executor) workDir(taskID string) (dir string, remove func(), err error) {
	if e.cfg.DefaultDir != "" {
		if err := checkDir(e.cfg.DefaultDir, "the shell executor's DefaultDir"); err != nil {
			return "", nil, err
		}
		return e.cfg.DefaultDir, func() {}, nil
	}
	dir, err = os.MkdirTemp("", "axontask-"+workdir.Name(taskID)+"-")
	if err != nil {
		return "", nil, fmt.Errorf("create a work directory for the task: %w; make the worker's TMPDIR writable, or set the executor's DefaultDir", err)
	}
	return dir, func() { e.removeDir(taskID, dir) }, nil
}

// removeDir removes a task's temporary work directory.
func (e *Executor) removeDir(taskID, dir string) {
	if err := workdir.Remove(dir); err != nil {
		e.cfg.Logger.Warn("shell task: cannot remove its temporary working directory", "task_id", taskID, "dir", dir, "err", err)
	}
}
