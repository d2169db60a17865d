package fly_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/executortest"
	"github.com/axontask/axontask/internal/testwait"
)

// conformance is the fly executor as a suite shared by every executor
// takes it: the executor, tasks that do what each case needs, and what
// they left behind. The cases below are the suite's; they move onto it
// as they are.
type conformance struct {
	exec executors.Executor
	// print returns a task that writes lines to stdout and exits 0.
	print func(t *testing.T, lines ...string) executors.Task
	// lines returns a task that writes "line 1" … "line n" to stdout and
	// exits 0.
	lines func(t *testing.T, n int) executors.Task
	// exit returns a task that writes a line and exits with code.
	exit func(t *testing.T, code int) executors.Task
	// hang returns a task that writes "up" and runs until it is stopped.
	hang func(t *testing.T) executors.Task
	// leftBehind names what the tasks left that should be gone.
	leftBehind func() []string
}

// flyConformance builds the fly executor against a fresh double.
func flyConformance(t *testing.T) *conformance {
	h := newHarness(t)
	return &conformance{
		exec: h.exec,
		print: func(t *testing.T, lines ...string) executors.Task {
			program := make([]string, len(lines))
			for i, l := range lines {
				program[i] = "print:" + l
			}
			return runTask(t, program...)
		},
		lines: func(t *testing.T, n int) executors.Task { return runTask(t, "lines:"+strconv.Itoa(n)) },
		exit: func(t *testing.T, code int) executors.Task {
			return runTask(t, "print:about to exit", "exit:"+strconv.Itoa(code))
		},
		hang: func(t *testing.T) executors.Task { return runTask(t, "print:up", "serve") },
		leftBehind: func() []string {
			var left []string
			for _, m := range h.api.Machines(testApp) {
				if m.State != "destroyed" {
					left = append(left, fmt.Sprintf("machine %s, %s", m.ID, m.State))
				}
			}
			return left
		},
	}
}

// run runs task on c's executor with a fresh recorder and checks that
// nothing is left behind.
func (c *conformance) run(ctx context.Context, t *testing.T, tk executors.Task) (executors.Result, *recorder, error) {
	t.Helper()
	rec := &recorder{t: t}
	res, err := c.runTo(ctx, t, tk, rec)
	return res, rec, err
}

// runTo runs task on c's executor, reporting to rec, and checks that
// nothing is left behind.
func (c *conformance) runTo(ctx context.Context, t *testing.T, tk executors.Task, rec *recorder) (executors.Result, error) {
	t.Helper()
	res, err := c.exec.Run(ctx, tk, rec)
	rec.done.Store(true)
	if left := c.leftBehind(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	return res, err
}

func TestConformanceSuccess(t *testing.T) {
	t.Parallel()
	c := flyConformance(t)
	res, rec, err := c.run(t.Context(), t, c.print(t, "hello", "world"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v; want exit code 0", res, err)
	}
	if got := rec.output(domain.Stdout); got != "hello\nworld\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestConformanceFailingExitCode(t *testing.T) {
	t.Parallel()
	c := flyConformance(t)
	res, rec, err := c.run(t.Context(), t, c.exit(t, 3))
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("Run = %+v, %v; want exit code 3", res, err)
	}
	if got := rec.output(domain.Stdout); got != "about to exit\n" {
		t.Errorf("stdout = %q", got)
	}
}

// TestConformanceStopped covers cancel and timeout: the work is stopped,
// its output so far kept, and Run returns the context's cause.
func TestConformanceStopped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(ctx context.Context) (context.Context, func())
		want error
	}{
		{"cancel", func(ctx context.Context) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(ctx)
			return ctx, func() { cancel(errCanceledByUser) }
		}, errCanceledByUser},
		{"timeout", func(ctx context.Context) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			return ctx, func() { <-ctx.Done(); cancel() }
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := flyConformance(t)
			ctx, stop := tc.stop(t.Context())
			done := make(chan struct{})
			var err error
			rec := &recorder{t: t}
			go func() {
				defer close(done)
				_, err = c.runTo(ctx, t, c.hang(t), rec)
			}()
			testwait.For(t, "the task's first output", func() bool { return rec.output(domain.Stdout) != "" })
			stop()
			<-done
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run error = %v, want one wrapping %v", err, tc.want)
			}
			if !strings.Contains(rec.output(domain.Stdout), "up\n") {
				t.Errorf("stdout = %q, want the line written before the stop", rec.output(domain.Stdout))
			}
		})
	}
}

var errCanceledByUser = errors.New("canceled by its user")

func TestConformanceOutputInOrderAndLarge(t *testing.T) {
	t.Parallel()
	c := flyConformance(t)
	const n = 20000 // 200 pages of Fly's logs API
	var want strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	res, rec, err := c.run(t.Context(), t, c.lines(t, n))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if got := rec.output(domain.Stdout); got != want.String() {
		t.Errorf("stdout has %d bytes, want %d in order", len(got), want.Len())
	}
}

// TestExecutorConformance runs the suite every executor passes, with the
// cases a Fly machine can express: its logs are one stream (stdout), and
// its program cannot ignore a stop or leave a process behind it.
func TestExecutorConformance(t *testing.T) {
	h := newHarness(t)
	var large strings.Builder
	for i := 1; i <= 60_000; i++ {
		fmt.Fprintf(&large, "line %d\n", i)
	}
	executortest.Run(t, executortest.Harness{
		Executor: h.exec,
		Cases: executortest.Cases{
			Success: func() executortest.Case {
				return executortest.Case{Task: runTask(t, "print:hello", "print:café"), Stdout: "hello\ncafé\n"}
			},
			Failure: func() executortest.Case {
				return executortest.Case{Task: runTask(t, "print:partial", "exit:3"), ExitCode: 3, Stdout: "partial\n"}
			},
			LargeOutput: func() executortest.Case {
				return executortest.Case{Task: runTask(t, "lines:60000"), Stdout: large.String()}
			},
			Long: func() executortest.Case {
				return executortest.Case{Task: runTask(t, "print:started", "serve")}
			},
		},
		Leftovers: func(_ *testing.T, task executors.Task) []string {
			var left []string
			for _, m := range h.api.Machines(testApp) {
				if m.State != "destroyed" && m.Metadata["axontask_task_id"] == task.ID {
					left = append(left, fmt.Sprintf("machine %s, %s", m.ID, m.State))
				}
			}
			return left
		},
	})
}
