package mock_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
)

// event is one Sink call, rendered for comparison.
type event string

// recorder is a Sink that records calls, fails the test on concurrent calls
// or calls after Run returned, and can signal each call.
type recorder struct {
	t        *testing.T
	inFlight atomic.Int32
	done     atomic.Bool
	mu       sync.Mutex
	events   []event
	onCall   func(e event)
}

func (r *recorder) record(e event) {
	if r.inFlight.Add(1) != 1 {
		r.t.Errorf("concurrent Sink calls")
	}
	defer r.inFlight.Add(-1)
	if r.done.Load() {
		r.t.Errorf("Sink call after Run returned: %s", e)
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.onCall != nil {
		r.onCall(e)
	}
}

func (r *recorder) Output(stream domain.OutputStream, data []byte) {
	r.record(event(fmt.Sprintf("%s %q", stream, data)))
}

func (r *recorder) Progress(percent float64, message string) {
	r.record(event(fmt.Sprintf("progress %g %q", percent, message)))
}

func (r *recorder) Events() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

func run(t *testing.T, ctx context.Context, e *mock.Executor, args any, r *recorder) (executors.Result, error) {
	t.Helper()
	res, err := e.Run(ctx, executors.Task{ID: "t1", Adapter: domain.AdapterMock, Args: args, Attempt: 1}, r)
	r.done.Store(true)
	return res, err
}

func parse(t *testing.T, raw string) *domain.MockArgs {
	t.Helper()
	a, err := domain.ParseArgs(domain.AdapterMock, []byte(raw))
	if err != nil {
		t.Fatalf("ParseArgs(%s): %v", raw, err)
	}
	return a.(*domain.MockArgs)
}

func TestRunReportsEveryStep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   string
		want   []event
		result executors.Result
	}{
		{
			name: "succeeds",
			args: `{"steps": 3, "interval_ms": 1, "output_lines_per_step": 2}`,
			want: []event{
				`stdout "step 1/3 line 1\n"`, `stdout "step 1/3 line 2\n"`, `progress 33.333333333333336 "step 1/3"`,
				`stdout "step 2/3 line 1\n"`, `stdout "step 2/3 line 2\n"`, `progress 66.66666666666667 "step 2/3"`,
				`stdout "step 3/3 line 1\n"`, `stdout "step 3/3 line 2\n"`, `progress 100 "step 3/3"`,
			},
			result: executors.Result{ExitCode: 0, Summary: "3 steps"},
		},
		{
			name: "fails at the step asked",
			args: `{"steps": 4, "interval_ms": 0, "output_lines_per_step": 1, "fail_at_step": 2}`,
			want: []event{
				`stdout "step 1/4 line 1\n"`, `progress 25 "step 1/4"`,
				`stdout "step 2/4 line 1\n"`, `progress 50 "step 2/4"`,
				`stderr "failed at step 2/4 as asked\n"`,
			},
			result: executors.Result{ExitCode: 1, Summary: "failed at step 2 as asked"},
		},
		{
			name: "fails at the last step",
			args: `{"steps": 1, "interval_ms": 0, "output_lines_per_step": 0, "fail_at_step": 1}`,
			want: []event{
				`progress 100 "step 1/1"`,
				`stderr "failed at step 1/1 as asked\n"`,
			},
			result: executors.Result{ExitCode: 1, Summary: "failed at step 1 as asked"},
		},
		{
			name:   "defaults",
			args:   `{"interval_ms": 0}`,
			result: executors.Result{ExitCode: 0, Summary: "10 steps"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{t: t}
			res, err := run(t, t.Context(), mock.New(mock.Options{}), parse(t, tt.args), r)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res != tt.result {
				t.Errorf("Result = %+v, want %+v", res, tt.result)
			}
			got := r.Events()
			if tt.want == nil {
				if len(got) != 20 {
					t.Errorf("got %d events, want 20 (10 steps of a line and a progress)", len(got))
				}
				return
			}
			if strings.Join(asStrings(got), "\n") != strings.Join(asStrings(tt.want), "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(asStrings(got), "\n"), strings.Join(asStrings(tt.want), "\n"))
			}
		})
	}
}

func asStrings(es []event) []string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return s
}

func TestRunWaitsIntervalBeforeEachStep(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var waits []time.Duration
	e := mock.New(mock.Options{SleepFunc: func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return nil
	}})
	// An hour of intervals runs instantly with the injected sleep.
	r := &recorder{t: t}
	if _, err := run(t, t.Context(), e, parse(t, `{"steps": 60, "interval_ms": 60000}`), r); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(waits) != 60 {
		t.Fatalf("slept %d times, want 60", len(waits))
	}
	for i, d := range waits {
		if d != time.Minute {
			t.Fatalf("wait %d = %s, want 1m", i, d)
		}
	}
	// Each wait comes before its step's output.
	if first := r.Events()[0]; first != `stdout "step 1/60 line 1\n"` {
		t.Errorf("first event %s", first)
	}
}

func TestRunRealIntervals(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := &recorder{t: t}
	if _, err := run(t, t.Context(), mock.New(mock.Options{}), parse(t, `{"steps": 5, "interval_ms": 20}`), r); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Five waits of 20 ms: a lower bound only, never an upper one.
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Errorf("ran in %s; 5 intervals of 20ms take at least 100ms", elapsed)
	}
}

var errStop = errors.New("stop requested by the test")

func TestRunCanceledWithinInterval(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	r := &recorder{t: t}
	// Cancel as soon as step 1 is reported: step 2 waits a full minute.
	r.onCall = func(e event) {
		if strings.HasPrefix(string(e), "progress") {
			cancel(errStop)
		}
	}
	start := time.Now()
	// The first interval must elapse: use a real sleep with a short first
	// wait and a long one after.
	var calls atomic.Int32
	e := mock.New(mock.Options{SleepFunc: func(ctx context.Context, d time.Duration) error {
		if calls.Add(1) == 1 {
			return nil
		}
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	_, err := run(t, ctx, e, parse(t, `{"steps": 3, "interval_ms": 60000}`), r)
	if !errors.Is(err, errStop) {
		t.Fatalf("Run error = %v, want one wrapping the cancel cause", err)
	}
	var se *executors.StartError
	if errors.As(err, &se) {
		t.Errorf("a canceled run is not a StartError: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("cancel took %s", elapsed)
	}
	if got := len(r.Events()); got != 2 {
		t.Errorf("got %d events, want step 1's line and progress only", got)
	}
}

func TestRunCanceledDuringRealSleep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeoutCause(t.Context(), 50*time.Millisecond, errStop)
	defer cancel()
	start := time.Now()
	_, err := run(t, ctx, mock.New(mock.Options{}), parse(t, `{"steps": 2, "interval_ms": 60000}`), &recorder{t: t})
	if !errors.Is(err, errStop) {
		t.Fatalf("Run error = %v, want one wrapping the cancel cause", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("cancel took %s", elapsed)
	}
}

func TestRunCanceledWithoutIntervals(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	r := &recorder{t: t}
	var n atomic.Int32
	r.onCall = func(event) {
		if n.Add(1) == 1000 {
			cancel(errStop)
		}
	}
	// 100,000 steps of 1000 lines with no waits: cancel must still stop it.
	_, err := run(t, ctx, mock.New(mock.Options{}), parse(t, `{"steps": 100000, "interval_ms": 0, "output_lines_per_step": 1000}`), r)
	if !errors.Is(err, errStop) {
		t.Fatalf("Run error = %v, want one wrapping the cancel cause", err)
	}
	if got := len(r.Events()); got > 2002 {
		t.Errorf("%d events after cancel at the 1000th; want it to stop at the end of that step", got)
	}
}

func TestRunAlreadyCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errStop)
	r := &recorder{t: t}
	_, err := run(t, ctx, mock.New(mock.Options{}), parse(t, `{"steps": 1, "interval_ms": 0}`), r)
	if !errors.Is(err, errStop) {
		t.Fatalf("Run error = %v, want one wrapping the cancel cause", err)
	}
	if len(r.Events()) != 0 {
		t.Errorf("events %v from a task canceled before it began", r.Events())
	}
}

func TestRunSleepFuncError(t *testing.T) {
	t.Parallel()
	boom := errors.New("clock broke")
	e := mock.New(mock.Options{SleepFunc: func(context.Context, time.Duration) error { return boom }})
	_, err := run(t, t.Context(), e, parse(t, `{"steps": 1}`), &recorder{t: t})
	if !errors.Is(err, boom) {
		t.Fatalf("Run error = %v, want %v", err, boom)
	}
}

func TestRunRejectsBadArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args any
		want string
	}{
		{"nil", nil, "<nil>"},
		{"nil pointer", (*domain.MockArgs)(nil), "*domain.MockArgs"},
		{"value, not pointer", domain.MockArgs{Steps: 1}, "domain.MockArgs"},
		{"shell args", &domain.ShellArgs{Command: []string{"true"}}, "*domain.ShellArgs"},
		{"raw JSON", []byte(`{"steps":1}`), "[]uint8"},
		{"zero steps", &domain.MockArgs{Steps: 0}, "args.steps"},
		{"fail after the end", &domain.MockArgs{Steps: 2, FailAtStep: 3}, "args.fail_at_step"},
		{"negative interval", &domain.MockArgs{Steps: 2, IntervalMS: -1}, "args.interval_ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{t: t}
			_, err := run(t, t.Context(), mock.New(mock.Options{}), tt.args, r)
			var se *executors.StartError
			if !errors.As(err, &se) {
				t.Fatalf("Run error = %v, want a *executors.StartError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if len(r.Events()) != 0 {
				t.Errorf("events %v from a task that could not start", r.Events())
			}
		})
	}
}

func TestRunConcurrentTasks(t *testing.T) {
	t.Parallel()
	e := mock.New(mock.Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			r := &recorder{t: t}
			args := &domain.MockArgs{Steps: 5, IntervalMS: 1, OutputLinesPerStep: 3, FailAtStep: i % 6}
			res, err := run(t, t.Context(), e, args, r)
			if err != nil {
				t.Errorf("task %d: %v", i, err)
				return
			}
			wantEvents, wantCode := 5*4, 0
			if args.FailAtStep > 0 {
				wantEvents, wantCode = args.FailAtStep*4+1, 1
			}
			if res.ExitCode != wantCode || len(r.Events()) != wantEvents {
				t.Errorf("task %d: exit %d with %d events, want %d with %d", i, res.ExitCode, len(r.Events()), wantCode, wantEvents)
			}
		})
	}
	wg.Wait()
}

// TestNoGoroutineLeaks is not parallel, so that the goroutine count is not
// disturbed by other tests (parallel tests wait until it is done).
func TestNoGoroutineLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	e := mock.New(mock.Options{})
	_, _ = run(t, ctx, e, &domain.MockArgs{Steps: 100, IntervalMS: 60000}, &recorder{t: t})
	_, _ = run(t, t.Context(), e, &domain.MockArgs{Steps: 3, IntervalMS: 1}, &recorder{t: t})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fail_attempts: the first attempts fail (at the last step, or at
// fail_at_step), the later ones succeed.
func TestFailAttempts(t *testing.T) {
	t.Parallel()
	e := mock.New(mock.Options{})
	for _, tc := range []struct {
		args    string
		attempt int
		code    int
		summary string
	}{
		{`{"steps":2,"interval_ms":0,"fail_attempts":2}`, 1, 1, "failed at step 2 as asked"},
		{`{"steps":2,"interval_ms":0,"fail_attempts":2}`, 2, 1, "failed at step 2 as asked"},
		{`{"steps":2,"interval_ms":0,"fail_attempts":2}`, 3, 0, "2 steps"},
		{`{"steps":3,"interval_ms":0,"fail_at_step":1,"fail_attempts":1}`, 1, 1, "failed at step 1 as asked"},
		{`{"steps":3,"interval_ms":0,"fail_at_step":1,"fail_attempts":1}`, 2, 0, "3 steps"},
		{`{"steps":3,"interval_ms":0,"fail_at_step":1}`, 5, 1, "failed at step 1 as asked"},
	} {
		r := &recorder{t: t}
		res, err := e.Run(t.Context(), executors.Task{ID: "t1", Adapter: domain.AdapterMock, Args: parse(t, tc.args), Attempt: tc.attempt}, r)
		r.done.Store(true)
		if err != nil || res.ExitCode != tc.code || res.Summary != tc.summary {
			t.Errorf("%s, attempt %d: %+v, %v; want exit %d %q", tc.args, tc.attempt, res, err, tc.code, tc.summary)
		}
	}
}
