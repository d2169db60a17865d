// Package executortest is the conformance suite of executors.Executor:
// what every executor (mock, shell, docker, fly, and any added later) promises
// the worker. An executor's tests call Run with a Harness:
//
//	func TestConformance(t *testing.T) {
//		executortest.Run(t, executortest.Harness{
//			Executor:  e,
//			Cases:     executortest.ScriptCases(func(script string) executors.Task { … sh -c script … }),
//			Leftovers: func(t *testing.T, task executors.Task) []string { … },
//		})
//	}
//
// An executor that runs commands builds its cases from POSIX sh scripts
// (ScriptCases); one that cannot (mock) gives its own Cases, each task
// with the output it will produce.
//
// The suite checks, for each case: the Result or the error Run returns;
// the output, exactly, stream by stream, in chunks that do not split a
// UTF-8 sequence; the order of output between the
// streams where the task separates its writes in time; that Sink calls are
// never concurrent and never come after Run returns; and that nothing of
// the task (a process, a container) is left once Run has returned.
package executortest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/textcut"
)

// TenantID is the tenant of the suite's tasks.
const TenantID = "executortest"

// Started is the first line a Long or Stubborn case of ScriptCases prints
// on stdout, once it runs.
const Started = "started\n"

// Harness tells the suite how to run one executor.
type Harness struct {
	// Executor is the executor under test; required. It must run tasks
	// concurrently: the cases run in parallel.
	Executor executors.Executor
	// Cases are the tasks of the suite for this executor; see ScriptCases.
	Cases Cases
	// Leftovers returns what is left of task after Run returned (live
	// processes, containers), described for a failure message; nil for
	// an executor that leaves nothing it could show.
	Leftovers func(t *testing.T, task executors.Task) []string
}

// Case is one task of the suite and what running it must give. The suite
// sets the task's ID, TenantID and, when zero, Attempt.
type Case struct {
	Task executors.Task
	// ExitCode is the Result's exit code.
	ExitCode int
	// Stdout and Stderr are the task's whole output on each stream.
	Stdout, Stderr string
	// Order, when set, is the output in the order it must arrive: each
	// chunk, adjacent chunks of the same stream joined.
	Order []Chunk
	// Started is what stdout begins with once a Long or Stubborn case
	// runs (default: the constant Started).
	Started string
}

// Chunk is output of one stream.
type Chunk struct {
	Stream domain.OutputStream
	Data   string
}

// Cases builds the tasks of the suite; each func is called once per test
// that uses it. A nil func skips the tests of its case, saying so.
type Cases struct {
	// Success exits 0 with some output.
	Success func() Case
	// Failure exits with a code other than 0.
	Failure func() Case
	// Ordering writes to stdout and stderr in turns, apart in time, and
	// sets Order.
	Ordering func() Case
	// LargeOutput writes at least half a MiB.
	LargeOutput func() Case
	// Long prints its Case's Started on stdout, then runs until it is
	// stopped; its other fields are not checked.
	Long func() Case
	// Stubborn is Long that ignores SIGTERM, so that only the executor's
	// kill after its grace period stops it.
	Stubborn func() Case
	// Orphan leaves a process running in the background and exits: the
	// executor ends it (Harness.Leftovers finds none once Run returned).
	Orphan func() Case
}

// ScriptCases returns the suite's cases as POSIX sh scripts that script
// turns into tasks (["sh", "-c", script] in the executor's way). The
// scripts use echo, printf, sleep, seq and trap only.
func ScriptCases(script func(script string) executors.Task) Cases {
	c := func(s string, code int, stdout, stderr string, order ...Chunk) func() Case {
		return func() Case {
			return Case{Task: script(s), ExitCode: code, Stdout: stdout, Stderr: stderr, Order: order}
		}
	}
	var seq strings.Builder
	for i := 1; i <= 100_000; i++ {
		fmt.Fprintf(&seq, "%d\n", i)
	}
	return Cases{
		Success: c(`echo hello; printf 'caf\303'; printf '\251\n'; echo warning >&2; printf 'no newline'`, 0, "hello\ncafé\nno newline", "warning\n"),
		Failure: c(`echo partial; echo broken >&2; exit 3`, 3, "partial\n", "broken\n"),
		Ordering: c(`printf 'o1\n'; sleep 0.5; printf 'e1\n' >&2; sleep 0.5; printf 'o2\n'; sleep 0.5; printf 'e2\n' >&2`, 0,
			"o1\no2\n", "e1\ne2\n",
			Chunk{domain.Stdout, "o1\n"}, Chunk{domain.Stderr, "e1\n"}, Chunk{domain.Stdout, "o2\n"}, Chunk{domain.Stderr, "e2\n"}),
		LargeOutput: c(`seq 1 100000`, 0, seq.String(), ""),
		Long:        c(`printf '`+Started+`'; sleep 600`, 0, "", ""),
		Stubborn:    c(`trap '' TERM; printf '`+Started+`'; sleep 600`, 0, "", ""),
		Orphan:      c(`sleep 600 & echo left`, 0, "left\n", ""),
	}
}

// errCanceled and errTimedOut are the causes the suite cancels with.
var (
	errCanceled = errors.New("canceled by the conformance suite")
	errTimedOut = errors.New("timed out by the conformance suite")
)

// Run runs the conformance suite against h, each test in parallel.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Executor == nil {
		t.Fatal("executortest: Harness.Executor is nil")
	}
	tests := []struct {
		name string
		c    func() Case
		run  func(t *testing.T, h Harness, c Case)
	}{
		{"success", h.Cases.Success, runToEnd},
		{"failure exit code", h.Cases.Failure, runToEnd},
		{"output ordering", h.Cases.Ordering, runToEnd},
		{"large output", h.Cases.LargeOutput, runToEnd},
		{"a process left in the background", h.Cases.Orphan, runToEnd},
		{"cancel", h.Cases.Long, cancelRunning},
		{"cancel a task that ignores SIGTERM", h.Cases.Stubborn, cancelRunning},
		{"timeout", h.Cases.Long, timeout},
		{"canceled before it starts", h.Cases.Success, cancelBeforeStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.c == nil {
				t.Skip("this executor cannot express the case")
			}
			tt.run(t, h, tt.c())
		})
	}
}

// runToEnd runs a case to its end and checks its result and output.
func runToEnd(t *testing.T, h Harness, c Case) {
	r, res, err := run(t.Context(), t, h, c, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != c.ExitCode {
		t.Errorf("exit code %d, want %d (summary %q)", res.ExitCode, c.ExitCode, res.Summary)
	}
	if got := r.stream(domain.Stdout); got != c.Stdout {
		t.Errorf("stdout: %d bytes %q, want %d bytes %q", len(got), textcut.Clip(got, 80), len(c.Stdout), textcut.Clip(c.Stdout, 80))
	}
	if got := r.stream(domain.Stderr); got != c.Stderr {
		t.Errorf("stderr: %d bytes %q, want %d bytes %q", len(got), textcut.Clip(got, 80), len(c.Stderr), textcut.Clip(c.Stderr, 80))
	}
	for _, ch := range r.chunksOf() {
		if !utf8.ValidString(ch.Data) && utf8.ValidString(c.Stdout) && utf8.ValidString(c.Stderr) {
			t.Errorf("an output chunk splits a UTF-8 sequence: %q", textcut.Clip(ch.Data, 80))
		}
	}
	if c.Order != nil {
		if got, want := fmt.Sprint(r.merged()), fmt.Sprint(c.Order); got != want {
			t.Errorf("output in the order %s, want %s", got, want)
		}
	}
}

// cancelRunning cancels a running case once it printed Started.
func cancelRunning(t *testing.T, h Harness, c Case) {
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	_, res, err := run(ctx, t, h, c, func(r *recorder) {
		r.waitFor(t, cmp.Or(c.Started, Started))
		cancel(errCanceled)
	})
	if !errors.Is(err, errCanceled) {
		t.Errorf("Run = %+v, %v; want an error wrapping the cancel's cause", res, err)
	}
}

// timeout runs a Long case under a deadline.
func timeout(t *testing.T, h Harness, c Case) {
	ctx, cancel := context.WithTimeoutCause(t.Context(), 3*time.Second, errTimedOut)
	defer cancel()
	_, res, err := run(ctx, t, h, c, nil)
	if !errors.Is(err, errTimedOut) {
		t.Errorf("Run = %+v, %v; want an error wrapping the deadline's cause", res, err)
	}
}

// cancelBeforeStart runs a case with a context canceled already.
func cancelBeforeStart(t *testing.T, h Harness, c Case) {
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errCanceled)
	r, res, err := run(ctx, t, h, c, nil)
	if !errors.Is(err, errCanceled) {
		t.Errorf("Run = %+v, %v; want an error wrapping the cancel's cause", res, err)
	}
	if out := r.stream(domain.Stdout) + r.stream(domain.Stderr); out != "" {
		t.Errorf("a task canceled before it started printed %q", textcut.Clip(out, 80))
	}
}

// runTimeout bounds one Run of the suite: far beyond what any case needs,
// so that a hung executor fails the test instead of the whole binary.
const runTimeout = 2 * time.Minute

// run runs c's task on h's executor with ctx, calling during (when not
// nil) in another goroutine while it runs, and checks that nothing of the
// task is left afterwards.
func run(ctx context.Context, t *testing.T, h Harness, c Case, during func(r *recorder)) (*recorder, executors.Result, error) {
	t.Helper()
	task := c.Task
	task.ID, task.TenantID = uuid.NewString(), TenantID
	if task.Attempt == 0 {
		task.Attempt = 1
	}
	r := &recorder{t: t, changed: make(chan struct{}, 1), finished: make(chan struct{})}
	type outcome struct {
		res executors.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := h.Executor.Run(ctx, task, r)
		r.returned.Store(true)
		close(r.finished)
		done <- outcome{res, err}
	}()
	var helper sync.WaitGroup
	if during != nil {
		helper.Go(func() { during(r) })
	}
	var o outcome
	select {
	case o = <-done:
	case <-time.After(runTimeout):
		t.Fatalf("Run has not returned after %s; output so far %v", runTimeout, r.merged())
	}
	helper.Wait()
	if h.Leftovers != nil {
		if left := h.Leftovers(t, task); len(left) > 0 {
			t.Errorf("left behind after Run returned: %s", strings.Join(left, "; "))
		}
	}
	return r, o.res, o.err
}

// recorder is the suite's Sink. It fails the test on concurrent calls and
// on calls after Run returned, and keeps data as passed (not copied), so
// that an executor that reuses a buffer after the call shows up.
type recorder struct {
	t        *testing.T
	inFlight atomic.Int32
	returned atomic.Bool
	mu       sync.Mutex
	chunks   []Chunk
	changed  chan struct{}
	finished chan struct{} // closed when Run has returned
}

// Output records a chunk.
func (r *recorder) Output(stream domain.OutputStream, data []byte) {
	if r.inFlight.Add(1) != 1 {
		r.t.Errorf("concurrent Sink calls")
	}
	defer r.inFlight.Add(-1)
	if r.returned.Load() {
		r.t.Errorf("Sink.Output after Run returned: %s %q", stream, textcut.Clip(string(data), 80))
	}
	r.mu.Lock()
	r.chunks = append(r.chunks, Chunk{stream, string(data)})
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Progress is accepted and not checked: executors report it as they see fit.
func (r *recorder) Progress(float64, string) {
	if r.returned.Load() {
		r.t.Errorf("Sink.Progress after Run returned")
	}
}

// chunksOf returns the Output calls so far.
func (r *recorder) chunksOf() []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.chunks)
}

// stream returns everything written to one stream.
func (r *recorder) stream(s domain.OutputStream) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	for _, c := range r.chunks {
		if c.Stream == s {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// merged returns the chunks with adjacent ones of a stream joined, so that
// checks do not depend on how reads cut the output.
func (r *recorder) merged() []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Chunk
	for _, c := range r.chunks {
		if n := len(out); n > 0 && out[n-1].Stream == c.Stream {
			out[n-1].Data += c.Data
			continue
		}
		out = append(out, c)
	}
	return out
}

// waitFor waits until stdout starts with prefix, failing the test after
// a generous timeout.
func (r *recorder) waitFor(t *testing.T, prefix string) {
	deadline := time.NewTimer(runTimeout)
	defer deadline.Stop()
	for !strings.HasPrefix(r.stream(domain.Stdout), prefix) {
		select {
		case <-r.changed:
		case <-r.finished:
			if !strings.HasPrefix(r.stream(domain.Stdout), prefix) {
				t.Errorf("Run returned before %q was on stdout; got %v", prefix, r.merged())
			}
			return
		case <-deadline.C:
			t.Errorf("no %q on stdout after %s; got %v", prefix, runTimeout, r.merged())
			return
		}
	}
}
