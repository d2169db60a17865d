package fly_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/fly"
	"github.com/axontask/axontask/internal/flymachines"
)

// Test constants: the token the double accepts, the secret that holds it,
// and the app the double knows.
const (
	testToken  = "fo1_test-token-value"
	tokenName  = "FLY_TOKEN"
	testApp    = "axontask-test"
	otherToken = "fo1_wrong"
)

// harness is a double of the Fly API and an executor that talks to it:
// the factory that the executor conformance suite takes.
type harness struct {
	api    *flymachines.Server
	exec   *fly.Executor
	pauses chan time.Duration // the retry pauses the executor took
}

// newHarness starts a double with the app testApp and an executor that
// polls it every 10 ms and does not wait before its retries.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{api: flymachines.Start(t, testToken, testApp), pauses: make(chan time.Duration, 100)}
	exec, err := fly.New(fly.Config{
		APIURL: h.api.URL, LogsURL: h.api.URL,
		PollInterval: 10 * time.Millisecond, WaitTimeout: time.Second, GracePeriod: time.Second, LogSettle: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
		SleepFunc: func(ctx context.Context, d time.Duration) error {
			select {
			case h.pauses <- d:
			default:
			}
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.exec = exec
	return h
}

// runTask returns a task of mode run whose machine runs program (see
// package flymachines), with the token as a secret reference.
func runTask(t *testing.T, program ...string) executors.Task {
	t.Helper()
	b, err := json.Marshal(map[string]any{"app": testApp, "image": "registry.fly.io/test:1", "token": map[string]string{"secret": tokenName}, "command": program})
	if err != nil {
		t.Fatal(err)
	}
	return task(t, string(b))
}

// task returns a fly task with args (JSON), attempt 1, the token secret
// resolved.
func task(t *testing.T, args string) executors.Task {
	t.Helper()
	parsed, err := domain.ParseArgs(domain.AdapterFly, json.RawMessage(args))
	if err != nil {
		t.Fatalf("ParseArgs(%s): %v", args, err)
	}
	return executors.Task{ID: uuid.NewString(), Adapter: domain.AdapterFly, Args: parsed, Attempt: 1, Secrets: map[string]string{tokenName: testToken}}
}

// assertNothingLeft fails t if a machine of the app is not destroyed.
func (h *harness) assertNothingLeft(t *testing.T) {
	t.Helper()
	for _, m := range h.api.Machines(testApp) {
		if m.State != "destroyed" && m.Metadata["axontask_task_id"] != "" {
			t.Errorf("machine %s of a task is left %s", m.ID, m.State)
		}
	}
}

// call is one Sink call.
type call struct {
	stream  domain.OutputStream // "" for progress
	data    string
	message string
}

// recorder is a Sink that records calls, and fails the test on concurrent
// calls or calls after Run returned.
type recorder struct {
	t        *testing.T
	inFlight atomic.Int32
	done     atomic.Bool
	mu       sync.Mutex
	calls    []call
}

func (r *recorder) enter() func() {
	if r.inFlight.Add(1) != 1 {
		r.t.Error("concurrent Sink calls")
	}
	if r.done.Load() {
		r.t.Error("a Sink call after Run returned")
	}
	return func() { r.inFlight.Add(-1) }
}

func (r *recorder) Output(stream domain.OutputStream, data []byte) {
	defer r.enter()()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{stream: stream, data: string(data)})
}

func (r *recorder) Progress(_ float64, message string) {
	defer r.enter()()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{message: message})
}

// output returns what was written to stream.
func (r *recorder) output(stream domain.OutputStream) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	for _, c := range r.calls {
		if c.stream == stream {
			b.WriteString(c.data)
		}
	}
	return b.String()
}

// progress returns the progress messages.
func (r *recorder) progress() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if c.stream == "" {
			out = append(out, c.message)
		}
	}
	return out
}

// run runs task on h's executor with a fresh recorder.
func (h *harness) run(ctx context.Context, t *testing.T, tk executors.Task) (executors.Result, *recorder, error) {
	t.Helper()
	rec := &recorder{t: t}
	res, err := h.exec.Run(ctx, tk, rec)
	rec.done.Store(true)
	return res, rec, err
}

// containsAll reports the first of subs missing from s, or "".
func containsAll(s string, subs ...string) string {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}
