package mock

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// Options configure an Executor. The zero value runs in real time.
type Options struct {
	// SleepFunc waits d before a step, or returns an error as soon as ctx
	// is done (default: a real timer that honours ctx). Tests inject one to
	// run long intervals instantly or to record them.
	SleepFunc func(ctx context.Context, d time.Duration) error
}

// Executor runs mock tasks. It holds no per-task state: one Executor may
// run any number of tasks concurrently.
type Executor struct {
	sleep func(ctx context.Context, d time.Duration) error
}

var _ executors.Executor = (*Executor)(nil)

// New returns an Executor with opts' zero fields set to their defaults.
func New(opts Options) *Executor {
	if opts.SleepFunc == nil {
		opts.SleepFunc = sleep
	}
	return &Executor{sleep: opts.SleepFunc}
}

// Run runs task, whose Args must be a valid *domain.MockArgs; anything else
// is a *executors.StartError and nothing is reported to sink. Sink calls
// come from the calling goroutine only and none happen after Run returns.
//
// A task that reaches the step it fails at (domain.MockArgs.FailsAt of
// task.Attempt) returns Result{ExitCode: 1}; one that
// finishes returns Result{ExitCode: 0}; both with a nil error. If ctx is
// done before or during the run, Run returns an error wrapping
// context.Cause(ctx) without starting the next step.
func (e *Executor) Run(ctx context.Context, task executors.Task, sink executors.Sink) (executors.Result, error) {
	args, err := mockArgs(task.Args)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	interval := time.Duration(args.IntervalMS) * time.Millisecond
	failAt := args.FailsAt(task.Attempt)
	for step := 1; step <= args.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return executors.Result{}, canceled(ctx, step, args.Steps)
		}
		if err := e.sleep(ctx, interval); err != nil {
			if ctx.Err() != nil {
				return executors.Result{}, canceled(ctx, step, args.Steps)
			}
			return executors.Result{}, fmt.Errorf("mock step %d/%d: wait %s: %w", step, args.Steps, interval, err)
		}
		prefix := "step " + strconv.Itoa(step) + "/" + strconv.Itoa(args.Steps)
		for line := 1; line <= args.OutputLinesPerStep; line++ {
			sink.Output(domain.Stdout, []byte(prefix+" line "+strconv.Itoa(line)+"\n"))
		}
		sink.Progress(100*float64(step)/float64(args.Steps), prefix)
		if step == failAt {
			sink.Output(domain.Stderr, []byte("failed at "+prefix+" as asked\n"))
			return executors.Result{ExitCode: 1, Summary: fmt.Sprintf("failed at step %d as asked", step)}, nil
		}
	}
	return executors.Result{ExitCode: 0, Summary: fmt.Sprintf("%d steps", args.Steps)}, nil
}

// mockArgs checks that a is a *domain.MockArgs within the adapter's limits,
// so that a caller who skipped validation gets a clear error rather than,
// say, a division by zero.
func mockArgs(a any) (*domain.MockArgs, error) {
	args, ok := a.(*domain.MockArgs)
	if !ok || args == nil {
		return nil, fmt.Errorf("mock executor got args of type %T; want a non-nil *domain.MockArgs from domain.ParseArgs", a)
	}
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("invalid mock args: %w", err)
	}
	return args, nil
}

func canceled(ctx context.Context, step, steps int) error {
	return fmt.Errorf("mock task canceled before step %d/%d: %w", step, steps, context.Cause(ctx))
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
