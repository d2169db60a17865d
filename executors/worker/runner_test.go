package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
	"github.com/axontask/axontask/executors/shell"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/teststores"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.StopAll()
	testredis.Stop()
	os.Exit(code)
}

const tenant = "tenant-a"

type bundle struct {
	store  worker.WatchdogStore
	start  *commands.StartTaskHandler
	cancel *commands.CancelTaskHandler
}

func setup(t *testing.T, s teststores.Store) *bundle {
	t.Helper()
	start, err := commands.NewStartTaskHandler(s, commands.StartTaskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cancel, err := commands.NewCancelTaskHandler(s, commands.CancelTaskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{store: s, start: start, cancel: cancel}
}

func newRunnerExecutors(t *testing.T) map[domain.Adapter]executors.Executor {
	t.Helper()
	sh, err := shell.New(shell.Config{GracePeriod: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{}), domain.AdapterShell: sh}
}

func newRunner(t *testing.T, b *bundle, id string) *worker.Runner {
	t.Helper()
	r, err := worker.New(b.store, worker.Config{WorkerID: id, Executors: newRunnerExecutors(t)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (b *bundle) startTask(t *testing.T, adapter domain.Adapter, args string, timeoutS int) uuid.UUID {
	t.Helper()
	res, err := b.start.Handle(t.Context(), commands.StartTask{TenantID: tenant, Name: "test", Adapter: adapter, Args: json.RawMessage(args), TimeoutS: timeoutS})
	if err != nil {
		t.Fatalf("start task: %v", err)
	}
	return res.TaskID
}

// events reads the task's whole stream and checks that its chain verifies.
func (b *bundle) events(t *testing.T, id uuid.UUID) []domain.Event {
	t.Helper()
	events, err := b.store.ReadStream(context.Background(), id.String(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := integrity.Verify(events); err != nil {
		t.Fatalf("chain of task %s: %v", id, err)
	}
	return events
}

func last(events []domain.Event) domain.Event { return events[len(events)-1] }

// stdout concatenates a stream's output, checking offsets are contiguous.
func output(t *testing.T, events []domain.Event, stream domain.OutputStream) string {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		if e.Type != domain.TaskOutputType {
			continue
		}
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out := p.(*domain.TaskOutput)
		if out.Stream != stream {
			continue
		}
		if out.Offset != int64(b.Len()) {
			t.Fatalf("%s output at seq %d has offset %d, want %d", stream, e.Seq, out.Offset, b.Len())
		}
		b.WriteString(out.Data)
	}
	return b.String()
}

func TestRunsTasksToTheirEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		adapter domain.Adapter
		args    string
		want    domain.EventType
		check   func(t *testing.T, events []domain.Event)
	}{
		{"mock succeeds", domain.AdapterMock, `{"steps":3,"interval_ms":1,"output_lines_per_step":2}`, domain.TaskSucceededType,
			func(t *testing.T, events []domain.Event) {
				if got := strings.Count(output(t, events, domain.Stdout), "\n"); got != 6 {
					t.Errorf("%d lines of output, want 6", got)
				}
			}},
		{"mock fails at a step", domain.AdapterMock, `{"steps":3,"interval_ms":1,"fail_at_step":2}`, domain.TaskFailedType, nil},
		{"shell keeps stdout and stderr apart", domain.AdapterShell, `{"command":["sh","-c","echo out; echo err >&2; exit 3"]}`, domain.TaskFailedType,
			func(t *testing.T, events []domain.Event) {
				if o, e := output(t, events, domain.Stdout), output(t, events, domain.Stderr); o != "out\n" || e != "err\n" {
					t.Errorf("stdout %q stderr %q", o, e)
				}
				p, _ := domain.Decode(last(events).Type, last(events).Payload)
				if f := p.(*domain.TaskFailed); f.ExitCode == nil || *f.ExitCode != 3 {
					t.Errorf("failure %+v, want exit code 3", f)
				}
			}},
		{"shell progress", domain.AdapterShell, `{"command":["sh","-c","echo ::progress 40 building; echo done"]}`, domain.TaskSucceededType,
			func(t *testing.T, events []domain.Event) {
				var progress int
				for _, e := range events {
					if e.Type == domain.TaskProgressType {
						progress++
					}
				}
				if progress != 1 || output(t, events, domain.Stdout) != "done\n" {
					t.Errorf("%d progress events, stdout %q", progress, output(t, events, domain.Stdout))
				}
			}},
		{"shell command not found", domain.AdapterShell, `{"command":["no-such-command-axontask"]}`, domain.TaskFailedType,
			func(t *testing.T, events []domain.Event) {
				p, _ := domain.Decode(last(events).Type, last(events).Payload)
				if f := p.(*domain.TaskFailed); !strings.Contains(f.Error, "no-such-command-axontask") {
					t.Errorf("failure %q does not name the command", f.Error)
				}
			}},
		{"10,000 lines arrive once, in order", domain.AdapterShell, `{"command":["seq","1","10000"]}`, domain.TaskSucceededType,
			func(t *testing.T, events []domain.Event) {
				var want strings.Builder
				for i := 1; i <= 10000; i++ {
					fmt.Fprintf(&want, "%d\n", i)
				}
				if got := output(t, events, domain.Stdout); got != want.String() {
					t.Errorf("output differs: %d bytes, want %d", len(got), want.Len())
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
				b := setup(t, s)
				id := b.startTask(t, tc.adapter, tc.args, 60)
				if err := newRunner(t, b, "w1").Run(t.Context(), id, tenant); err != nil {
					t.Fatalf("Run: %v", err)
				}
				events := b.events(t, id)
				if events[2].Type != domain.TaskStartedType || last(events).Type != tc.want {
					t.Fatalf("events %s … %s, want task.started … %s", events[2].Type, last(events).Type, tc.want)
				}
				if tc.check != nil {
					tc.check(t, events)
				}
			})
		})
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startTask(t, domain.AdapterShell, `{"command":["sleep","30"]}`, 1)
		if err := newRunner(t, b, "w1").Run(t.Context(), id, tenant); err != nil {
			t.Fatal(err)
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskTimedOutType {
			t.Fatalf("ended with %s, want task.timed_out", got)
		}
	})
}

// waitStarted waits until the task's stream shows task.started.
func (b *bundle) waitStarted(t *testing.T, id uuid.UUID) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		events, err := b.store.ReadStream(context.Background(), id.String(), 0, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) >= 3 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the task never started")
}

func TestCancel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// notify tells the runner directly, as the control topic will;
		// without it the runner learns of the cancel from its next append,
		// or, for a task that prints nothing, at its next lease renewal.
		notify bool
		args   string
	}{
		{"notified", true, `{"command":["sleep","30"]}`},
		{"noticed on the next append", false, `{"command":["sh","-c","while true; do echo tick; sleep 0.05; done"]}`},
		{"noticed at lease renewal", false, `{"command":["sleep","30"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
				b := setup(t, s)
				id := b.startTask(t, domain.AdapterShell, tc.args, 60)
				r, err := worker.New(b.store, worker.Config{WorkerID: "w1", Executors: newRunnerExecutors(t),
					LeaseTTL: 2 * time.Second, RenewInterval: 100 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- r.Run(context.Background(), id, tenant) }()
				b.waitStarted(t, id)
				if _, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant}); err != nil {
					t.Fatal(err)
				}
				if tc.notify && !r.Cancel(id.String()) {
					t.Fatal("Cancel: the runner does not know the task")
				}
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("the task was not canceled within 20 s")
				}
				if got := last(b.events(t, id)).Type; got != domain.TaskCanceledType {
					t.Fatalf("ended with %s, want task.canceled", got)
				}
			})
		})
	}
}

// Many runners race for one task: exactly one claims and runs it.
func TestExactlyOneClaimWins(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startTask(t, domain.AdapterMock, `{"steps":2,"interval_ms":1}`, 60)
		var wg sync.WaitGroup
		results := make(chan error, 6)
		for i := range 6 {
			r := newRunner(t, b, fmt.Sprintf("w%d", i))
			wg.Add(1)
			go func() { defer wg.Done(); results <- r.Run(t.Context(), id, tenant) }()
		}
		wg.Wait()
		close(results)
		ran := 0
		for err := range results {
			switch {
			case err == nil:
				ran++
			case errors.Is(err, worker.ErrNotClaimable):
			default:
				t.Fatalf("Run: %v", err)
			}
		}
		events := b.events(t, id)
		started := 0
		for _, e := range events {
			if e.Type == domain.TaskStartedType {
				started++
			}
		}
		if ran != 1 || started != 1 || last(events).Type != domain.TaskSucceededType {
			t.Fatalf("%d runs, %d task.started, last %s; want exactly one", ran, started, last(events).Type)
		}
	})
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

// twoAttempts is a shell command that, run twice, stops the first time (it
// waits to be stopped) and ends the second; its marker sits in a directory
// of the test's, named in args.env, since args.cwd cannot leave the work
// directory. before runs ahead of the marker's test on every attempt.
func twoAttempts(dir, before, after string) string {
	return `{"command":["sh","-c","` + before + `test -e \"$MARKS/attempt1\" || { touch \"$MARKS/attempt1\"; sleep 30; }; ` + after + `"],"env":{"MARKS":"` + dir + `"}}`
}

// runFirstAttempt runs task id's first attempt with r until its marker in
// dir appears, then shuts r down: the task is handed back.
func runFirstAttempt(t *testing.T, r *worker.Runner, id uuid.UUID, dir string) {
	t.Helper()
	ctx, shutdown := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, id, tenant) }()
	waitFile(t, filepath.Join(dir, "attempt1")) // the first attempt runs
	shutdown()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of shutdown")
	}
}

// A worker shutting down stops its task and hands it back: the log shows
// task.lease_lost and a second attempt, which another worker runs to its end.
func TestShutdownHandsTheTaskBack(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		dir := t.TempDir()
		id := b.startTask(t, domain.AdapterShell, twoAttempts(dir, "", "echo second"), 60)
		runFirstAttempt(t, newRunner(t, b, "w1"), id, dir)
		events := b.events(t, id)
		if got := events[len(events)-2].Type; got != domain.TaskLeaseLostType || last(events).Type != domain.TaskQueuedType {
			t.Fatalf("after shutdown the log ends %s, %s; want task.lease_lost, task.queued", got, last(events).Type)
		}
		if err := newRunner(t, b, "w2").Run(t.Context(), id, tenant); err != nil {
			t.Fatalf("second attempt: %v", err)
		}
		events = b.events(t, id)
		if last(events).Type != domain.TaskSucceededType || !strings.Contains(output(t, events, domain.Stdout), "second") {
			t.Fatalf("second attempt ended with %s", last(events).Type)
		}
	})
}
