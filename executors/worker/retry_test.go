package worker_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/teststores"
)

// clock is a test's clock, moved on by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startRetrying starts a task with a retry policy and an on_interrupt.
func (b *bundle) startRetrying(t *testing.T, adapter domain.Adapter, args string, retry *domain.RetryPolicy, onInterrupt domain.OnInterrupt) uuid.UUID {
	t.Helper()
	res, err := b.start.Handle(t.Context(), commands.StartTask{TenantID: tenant, Name: "flaky", Adapter: adapter, Args: json.RawMessage(args),
		TimeoutS: 60, Retry: retry, OnInterrupt: onInterrupt})
	if err != nil {
		t.Fatalf("start task: %v", err)
	}
	return res.TaskID
}

// payloadsOf returns the decoded payloads of the events of type typ, in order.
func payloadsOf[P domain.Payload](t *testing.T, events []domain.Event, typ domain.EventType) ([]P, []domain.Event) {
	t.Helper()
	var out []P
	var of []domain.Event
	for _, e := range events {
		if e.Type != typ {
			continue
		}
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.(P))
		of = append(of, e)
	}
	return out, of
}

// A task that fails twice, then succeeds: three attempts, each failure a
// task.attempt_failed with the next attempt queued after its backoff (1 s,
// then 2 s: the due times are in the events), no claim before a backoff
// ends, and the waiting list holding the retry meanwhile.
func TestRetryAfterFailedAttempts(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		clk := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
		r, err := worker.New(b.store, worker.Config{WorkerID: "w1", Executors: newRunnerExecutors(t), NowFunc: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		policy := &domain.RetryPolicy{MaxAttempts: 3, InitialIntervalMS: 1000, BackoffCoefficient: 2, MaxIntervalMS: 60_000}
		id := b.startRetrying(t, domain.AdapterMock, `{"steps":2,"interval_ms":0,"fail_attempts":2}`, policy, "")
		for attempt := 1; attempt <= 3; attempt++ {
			if err := r.Run(t.Context(), id, tenant); err != nil {
				t.Fatalf("attempt %d: %v", attempt, err)
			}
			if attempt == 3 {
				break
			}
			backoff := time.Duration(1<<(attempt-1)) * time.Second
			due := clk.Now().Add(backoff)
			if attempt == 2 {
				// As the watchdog adopts a task whose work message was lost:
				// a row from the time it was queued.
				if err := b.store.TaskWaitingMark(t.Context(), id.String(), tenant, clk.Now()); err != nil {
					t.Fatal(err)
				}
			}
			// Not due yet: the claim refuses, and the task waits on the list
			// from its due time.
			clk.Add(backoff - time.Millisecond)
			if err := r.Run(t.Context(), id, tenant); !errors.Is(err, worker.ErrNotDue) {
				t.Fatalf("a claim %s into a backoff of %s: %v, want ErrNotDue", backoff-time.Millisecond, backoff, err)
			}
			waiting, err := b.store.TaskWaitingList(t.Context(), tenant, 10)
			if err != nil || len(waiting) != 1 || waiting[0].TaskID != id.String() || !waiting[0].Since.Equal(due) {
				t.Fatalf("waiting list %+v, %v; want the retry, from %s", waiting, err, due)
			}
			clk.Add(time.Millisecond)
		}
		events := b.events(t, id)
		if got := last(events).Type; got != domain.TaskSucceededType {
			t.Fatalf("the task ended with %s, want task.succeeded", got)
		}
		failed, failedEvents := payloadsOf[*domain.TaskAttemptFailed](t, events, domain.TaskAttemptFailedType)
		queued, queuedEvents := payloadsOf[*domain.TaskQueued](t, events, domain.TaskQueuedType)
		started, _ := payloadsOf[*domain.TaskStarted](t, events, domain.TaskStartedType)
		if len(failed) != 2 || len(queued) != 3 || len(started) != 3 {
			t.Fatalf("%d attempt_failed, %d queued, %d started; want 2, 3, 3: %v", len(failed), len(queued), len(started), typesOf(events))
		}
		for i, f := range failed {
			one := 1
			if f.Attempt != i+1 || f.ExitCode == nil || *f.ExitCode != one || f.WorkerID != "w1" || !strings.Contains(f.Error, "as asked") {
				t.Errorf("attempt_failed %d: %+v", i, f)
			}
			q := queued[i+1]
			due, err := domain.ParseTime(q.NotBefore)
			if err != nil {
				t.Fatalf("queued %d: not_before %q: %v", i+1, q.NotBefore, err)
			}
			want := time.Duration(1<<i) * time.Second
			if q.Attempt != i+2 || due.Sub(failedEvents[i].OccurredAt) != want || !queuedEvents[i+1].OccurredAt.Equal(failedEvents[i].OccurredAt) {
				t.Errorf("attempt %d queued %+v at %s after the failure at %s; want attempt %d due %s later",
					i+2, q, queuedEvents[i+1].OccurredAt, failedEvents[i].OccurredAt, i+2, want)
			}
		}
		for i, st := range started {
			if st.Attempt != i+1 {
				t.Errorf("started %d is attempt %d", i, st.Attempt)
			}
		}
		var task domain.Task
		if err := commands.CatchUpTask(t.Context(), b.store, id, tenant, &task); err != nil || task.Attempt() != 3 {
			t.Fatalf("attempt %d, %v; want 3", task.Attempt(), err)
		}
		if waiting, err := b.store.TaskWaitingList(t.Context(), tenant, 10); err != nil || len(waiting) != 0 {
			t.Fatalf("waiting list %+v, %v after the task started; want it empty", waiting, err)
		}
	})
}

// A failure whose exit status is non-retryable ends the task at once; one
// past max_attempts too.
func TestRetryStops(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		r := newRunner(t, b, "w1")
		policy := &domain.RetryPolicy{MaxAttempts: 5, InitialIntervalMS: 1, NonRetryableExitCodes: []int{2}}
		id := b.startRetrying(t, domain.AdapterShell, `{"command":["sh","-c","exit 2"]}`, policy, "")
		if err := r.Run(t.Context(), id, tenant); err != nil {
			t.Fatal(err)
		}
		events := b.events(t, id)
		if got := typesOf(events); len(got) != 4 || got[3] != domain.TaskFailedType {
			t.Fatalf("a non-retryable exit status: %v, want created, queued, started, failed", got)
		}

		// Without a policy a failure ends the task, as it always did.
		id = b.startTask(t, domain.AdapterMock, `{"steps":1,"interval_ms":0,"fail_at_step":1}`, 60)
		if err := r.Run(t.Context(), id, tenant); err != nil {
			t.Fatal(err)
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskFailedType {
			t.Fatalf("no policy: ended with %s, want task.failed", got)
		}
	})
}

// on_interrupt "fail": the watchdog fails the task of a dead worker, with
// a reason, instead of queueing it again.
func TestOnInterruptFailEndsTheTaskOfADeadWorker(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startRetrying(t, domain.AdapterMock, `{"steps":1,"interval_ms":0}`, &domain.RetryPolicy{MaxAttempts: 3}, domain.OnInterruptFail)
		b.crashedWorker(t, id, "dead-worker")
		if n, err := worker.NewWatchdog(b.store, worker.WatchdogConfig{}).Sweep(t.Context()); err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want 1", n, err)
		}
		events := b.events(t, id)
		failed, _ := payloadsOf[*domain.TaskFailed](t, events, domain.TaskFailedType)
		if got := typesOf(events); len(got) != 5 || got[3] != domain.TaskLeaseLostType || len(failed) != 1 ||
			!strings.Contains(failed[0].Error, `on_interrupt is "fail"`) || !strings.Contains(failed[0].Error, "dead-worker") {
			t.Fatalf("log %v, failure %+v; want lease lost, then failed saying why", got, failed)
		}
		if err := newRunner(t, b, "w2").Run(t.Context(), id, tenant); !errors.Is(err, worker.ErrNotClaimable) {
			t.Fatalf("a claim of the failed task: %v, want ErrNotClaimable", err)
		}
	})
}

// The pool runs a retry once it is due: the claim on the work message finds
// it not due and leaves it on the waiting list, whose sweep claims it.
func TestPoolRunsDueRetries(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		runInProcess(t, b, s, 2)
		id := b.startRetrying(t, domain.AdapterMock, `{"steps":1,"interval_ms":0,"fail_attempts":1}`,
			&domain.RetryPolicy{MaxAttempts: 2, InitialIntervalMS: 200}, "")
		if got := b.waitEnded(t, id.String()); got != domain.TaskSucceededType {
			t.Fatalf("ended with %s, want task.succeeded on the second attempt", got)
		}
		events := b.events(t, id)
		queued, _ := payloadsOf[*domain.TaskQueued](t, events, domain.TaskQueuedType)
		_, startedEvents := payloadsOf[*domain.TaskStarted](t, events, domain.TaskStartedType)
		due, err := domain.ParseTime(queued[len(queued)-1].NotBefore)
		if err != nil || len(startedEvents) != 2 || startedEvents[1].OccurredAt.Before(due) {
			t.Fatalf("attempt 2 due %s (%v) started at %v: %v", due, err, startedEvents, typesOf(events))
		}
	})
}
