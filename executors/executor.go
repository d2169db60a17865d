package executors

import (
	"context"
	"errors"

	"github.com/axontask/axontask/domain"
)

// Task is one attempt of a task, as an executor sees it.
type Task struct {
	// ID is the task id (its stream id).
	ID string
	// TenantID is the tenant the task belongs to.
	TenantID string
	// Adapter says which executor runs it.
	Adapter domain.Adapter
	// Args are the adapter's validated arguments: *domain.MockArgs,
	// *domain.ShellArgs or *domain.DockerArgs (and the other adapters'
	// *Args types).
	Args any
	// Attempt counts from 1.
	Attempt int
	// LastFailedAttempt is the latest attempt whose failure the log
	// records (its retry policy then ran another), 0 when none: an
	// executor that takes over the work an earlier attempt left (a worker
	// that died) takes over only the work of later attempts.
	LastFailedAttempt int
	// Limits bound the task's resources and its output, from its tenant's
	// plan. The executor enforces the resource limits, on each attempt, and
	// returns a *LimitError when the task reaches one; the worker enforces
	// the output limits, over all the task's attempts together.
	Limits domain.TaskLimits
	// Secrets are the values of the tenant secrets the args refer to
	// ([domain.SecretReferrer]), by name, resolved by the worker for this
	// attempt; domain.SecretString's Resolve takes them. The worker masks
	// them in the task's output. Executors never log or report them.
	Secrets map[string]string
}

// Sink receives what a running task reports. An executor calls it from one
// goroutine at a time; calls must not block for long (the worker buffers).
type Sink interface {
	// Output delivers a chunk of the task's stdout or stderr. The executor
	// must not reuse data after the call returns.
	Output(stream domain.OutputStream, data []byte)
	// Progress reports how far the task has come (0–100) and what it is doing.
	Progress(percent float64, message string)
}

// Result is how a task's process ended.
type Result struct {
	// ExitCode is the process's exit status (0 success).
	ExitCode int
	// Summary is an optional one-line description of the outcome.
	Summary string
}

// Executor runs one attempt of a task to its end.
//
// Run returns when the work has ended. If ctx is canceled (a cancel request,
// the task's timeout, the worker shutting down), Run stops the work — for a
// process: SIGTERM to its process group, then SIGKILL after the executor's
// grace period — and returns an error wrapping context.Cause(ctx). A task
// that ran and exited returns its Result, whatever the exit code. A task
// that could not start (command not found, bad working directory) returns a
// *StartError. Run must be safe to call concurrently for different tasks.
type Executor interface {
	Run(ctx context.Context, task Task, sink Sink) (Result, error)
}

// StartError reports work that could not be started at all. Its message
// says what to fix (e.g. `command "mak" not found in PATH`).
type StartError struct {
	Err error
	// Permanent marks a failure that another attempt cannot fix (args the
	// executor refuses, credentials the provider refused, a secret the
	// tenant does not have): the task ends even when its retry policy
	// would run it again.
	Permanent bool
}

func (e *StartError) Error() string { return "task could not start: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StartError) Unwrap() error { return e.Err }

// LimitError reports work that the executor stopped because it reached one
// of the task's resource limits (Limits). Reason starts with the limit in
// a few words and says what it was: "out of memory: the task used all of
// its 512 MiB of memory". The worker fails the task with it and names the
// plan that sets the limit.
type LimitError struct {
	Reason string
}

func (e *LimitError) Error() string { return e.Reason }

// ErrUnknownAdapter is returned for a task whose adapter has no executor here.
var ErrUnknownAdapter = errors.New("no executor for this adapter on this worker")

// Attempt names one attempt of a task on a worker, as an executor finds it
// again in what it left behind (a container's labels).
type Attempt struct {
	TaskID   string
	TenantID string
	WorkerID string
	Attempt  int
}

// RunningFunc reports whether attempt a still runs: the task is running,
// in that attempt, on that worker.
type RunningFunc func(ctx context.Context, a Attempt) (bool, error)

// Reaper is an executor whose work can outlive its worker (a container
// keeps running when the worker dies). The worker calls Reap when it
// starts, before it runs any task, to remove what was left of attempts
// that no longer run: all of its own worker id's, and those of other
// workers for which running answers false. Reap returns how many it
// removed.
type Reaper interface {
	Reap(ctx context.Context, running RunningFunc) (int, error)
}
