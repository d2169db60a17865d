package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/executors/shell"
)

// secretVar is set in the test process's environment by TestMain and is
// on no allow list unless a test puts it there.
const secretVar = "AXONTASK_SHELL_TEST_SECRET"

func TestMain(m *testing.M) {
	sandbox.Init()
	if os.Getenv(workerChildVar) != "" {
		os.Exit(workerChild())
	}
	if err := os.Setenv(secretVar, "hunter2"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// call is one Sink call. Output data is kept as passed, not copied, so
// that an executor reusing a buffer after the call shows up as corruption.
type call struct {
	stream  domain.OutputStream // "" for a progress call
	data    []byte
	percent float64
	message string
}

func (c call) String() string {
	if c.stream == "" {
		return fmt.Sprintf("progress %g %q", c.percent, c.message)
	}
	return fmt.Sprintf("%s %q", c.stream, c.data)
}

// recorder is a Sink that records calls; it fails the test on concurrent
// calls or calls after Run returned.
type recorder struct {
	t        *testing.T
	inFlight atomic.Int32
	done     atomic.Bool
	mu       sync.Mutex
	calls    []call
	changed  chan struct{}
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, changed: make(chan struct{}, 1)}
}

func (r *recorder) add(c call) {
	if r.inFlight.Add(1) != 1 {
		r.t.Errorf("concurrent Sink calls")
	}
	defer r.inFlight.Add(-1)
	if r.done.Load() {
		r.t.Errorf("Sink call after Run returned: %s", c)
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) Output(stream domain.OutputStream, data []byte) {
	r.add(call{stream: stream, data: data})
}

func (r *recorder) Progress(percent float64, message string) {
	r.add(call{percent: percent, message: message})
}

// Calls returns the calls so far.
func (r *recorder) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// Stream returns everything written to one stream so far.
func (r *recorder) Stream(s domain.OutputStream) string {
	var b bytes.Buffer
	for _, c := range r.Calls() {
		if c.stream == s {
			b.Write(c.data)
		}
	}
	return b.String()
}

// Merged renders the calls with adjacent outputs of one stream joined, so
// that tests do not depend on how reads cut the output into chunks.
func (r *recorder) Merged() []string {
	var out []string
	var last domain.OutputStream
	var buf []byte
	flush := func() {
		if last != "" {
			out = append(out, call{stream: last, data: buf}.String())
		}
		last, buf = "", nil
	}
	for _, c := range r.Calls() {
		if c.stream != last {
			flush()
		}
		if c.stream == "" {
			out = append(out, c.String())
			continue
		}
		last = c.stream
		buf = append(buf, c.data...)
	}
	flush()
	return out
}

// waitUntil waits until cond holds for the recorder, failing the test
// after a generous timeout.
func (r *recorder) waitUntil(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for !cond(r) {
		select {
		case <-r.changed:
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s; got %v", what, r.Merged())
		}
	}
}

func newExecutor(t *testing.T, cfg shell.Config) *shell.Executor {
	t.Helper()
	e, err := shell.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func task(args any) executors.Task {
	return executors.Task{ID: "01JTESTTASK", Adapter: domain.AdapterShell, Args: args, Attempt: 1}
}

func argv(command ...string) *domain.ShellArgs {
	return &domain.ShellArgs{Command: command}
}

// outcome is what a Run returned.
type outcome struct {
	res     executors.Result
	err     error
	elapsed time.Duration
}

// run runs args to the end.
func run(t *testing.T, ctx context.Context, e *shell.Executor, args any) (*recorder, outcome) {
	t.Helper()
	r := newRecorder(t)
	return r, <-start(ctx, e, args, r)
}

// start runs args in a goroutine and delivers the outcome.
func start(ctx context.Context, e *shell.Executor, args any, r *recorder) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		begin := time.Now()
		res, err := e.Run(ctx, task(args), r)
		r.done.Store(true)
		ch <- outcome{res: res, err: err, elapsed: time.Since(begin)}
	}()
	return ch
}

// pids parses the lines of out that are process ids.
func pids(out string) []int {
	var ps []int
	for _, line := range strings.Split(out, "\n") {
		if p, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}
