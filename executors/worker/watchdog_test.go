package worker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/teststores"
)

// crashedWorker leaves the task as a worker that died while running it
// would: task.started for the task's current attempt and a lease that
// expired a while ago.
func (b *bundle) crashedWorker(t *testing.T, id uuid.UUID, workerID string) {
	t.Helper()
	events := b.events(t, id)
	var task domain.Task
	for _, e := range events {
		if err := task.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := domain.MarshalPayload(domain.TaskStarted{Attempt: task.Attempt(), WorkerID: workerID})
	stream := eventstore.Stream{ID: id.String(), Type: domain.StreamTask, TenantID: tenant}
	if _, err := b.store.Append(t.Context(), stream, task.Seq(), []domain.NewEvent{{EventID: uuid.New(), Type: domain.TaskStartedType, Payload: p, OccurredAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	lease := eventstore.Lease{TaskID: id.String(), TenantID: tenant, WorkerID: workerID, Attempt: task.Attempt(), ExpiresAt: time.Now().Add(-time.Second)}
	if err := b.store.LeasePut(t.Context(), lease); err != nil {
		t.Fatal(err)
	}
}

func typesOf(events []domain.Event) []domain.EventType {
	out := make([]domain.EventType, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

// A task whose worker died is re-queued by the watchdog and finished by
// another worker; the log shows task.lease_lost and the second attempt.
func TestWatchdogRequeuesTheTaskOfADeadWorker(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startTask(t, domain.AdapterMock, `{"steps":2,"interval_ms":1}`, 60)
		b.crashedWorker(t, id, "dead-worker")
		dog := worker.NewWatchdog(b.store, worker.WatchdogConfig{})
		if n, err := dog.Sweep(t.Context()); err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want 1 task recovered", n, err)
		}
		if n, err := dog.Sweep(t.Context()); err != nil || n != 0 {
			t.Fatalf("second Sweep = %d, %v; want nothing left to do", n, err)
		}
		if err := newRunner(t, b, "w2").Run(t.Context(), id, tenant); err != nil {
			t.Fatalf("second attempt: %v", err)
		}
		got := fmt.Sprint(typesOf(b.events(t, id))[:6])
		want := fmt.Sprint([]domain.EventType{domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType,
			domain.TaskLeaseLostType, domain.TaskQueuedType, domain.TaskStartedType})
		if got != want {
			t.Fatalf("log starts %s, want %s", got, want)
		}
		if last(b.events(t, id)).Type != domain.TaskSucceededType {
			t.Fatal("the second attempt did not succeed")
		}
	})
}

func TestWatchdogGivesUpAndTimesOut(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		dog := worker.NewWatchdog(b.store, worker.WatchdogConfig{MaxAttempts: 2})

		// Two dead workers in a row: the second loss fails the task.
		id := b.startTask(t, domain.AdapterMock, `{}`, 60)
		for i := range 2 {
			b.crashedWorker(t, id, fmt.Sprintf("dead-%d", i))
			if _, err := dog.Sweep(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskFailedType {
			t.Fatalf("after %d lost leases the task ends with %s, want task.failed", 2, got)
		}

		// A dead worker past the task's timeout: timed out.
		late := worker.NewWatchdog(b.store, worker.WatchdogConfig{NowFunc: func() time.Time { return time.Now().Add(2 * time.Minute) }})
		id = b.startTask(t, domain.AdapterMock, `{}`, 60)
		b.crashedWorker(t, id, "dead")
		if _, err := late.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskTimedOutType {
			t.Fatalf("past its timeout the task ends with %s, want task.timed_out", got)
		}
	})
}

// Watchdogs on several nodes may sweep at once: each lost lease is
// recovered exactly once.
func TestConcurrentWatchdogsRecoverOnce(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		var ids []uuid.UUID
		for range 5 {
			id := b.startTask(t, domain.AdapterMock, `{}`, 60)
			b.crashedWorker(t, id, "dead")
			ids = append(ids, id)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = worker.NewWatchdog(b.store, worker.WatchdogConfig{}).Sweep(context.Background())
			}()
		}
		wg.Wait()
		for _, id := range ids {
			lost := 0
			for _, e := range b.events(t, id) {
				if e.Type == domain.TaskLeaseLostType {
					lost++
				}
			}
			if lost != 1 || last(b.events(t, id)).Type != domain.TaskQueuedType {
				t.Fatalf("task %s: %d task.lease_lost, last %s; want exactly one recovery", id, lost, last(b.events(t, id)).Type)
			}
		}
	})
}

// A worker whose lease is taken back (the watchdog recovered the task while
// the worker was cut off) stops the task and appends nothing more.
func TestRunnerStopsWhenItsLeaseIsTakenBack(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		r, err := worker.New(b.store, worker.Config{
			WorkerID: "w1", Executors: newRunnerExecutors(t), LeaseTTL: 400 * time.Millisecond, RenewInterval: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		id := b.startTask(t, domain.AdapterShell, `{"command":["sleep","30"]}`, 60)
		done := make(chan error, 1)
		go func() { done <- r.Run(t.Context(), id, tenant) }()
		b.waitStarted(t, id)
		// The lease is recorded just after the claim: drop it until the
		// runner notices.
		deadline := time.After(20 * time.Second)
	wait:
		for {
			if err := b.store.LeaseDrop(t.Context(), id.String(), 1); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, worker.ErrTaskLost) {
					t.Fatalf("Run = %v, want ErrTaskLost", err)
				}
				break wait
			case <-time.After(20 * time.Millisecond):
			case <-deadline:
				t.Fatal("the runner did not notice its lease was gone")
			}
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskStartedType {
			t.Fatalf("the runner appended %s after losing its lease", got)
		}
	})
}

// aliveWorkerStore appends a task.output of the task's worker just before
// the watchdog's first append: the worker was slow to renew its lease but
// still runs.
type aliveWorkerStore struct {
	worker.WatchdogStore
	once sync.Once
}

func (s *aliveWorkerStore) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	var err error
	s.once.Do(func() {
		p, _ := domain.MarshalPayload(domain.TaskOutput{Stream: "stdout", Data: "still here\n"})
		_, err = s.WatchdogStore.Append(ctx, stream, expectedSeq, []domain.NewEvent{{EventID: uuid.New(), Type: domain.TaskOutputType, Payload: p, OccurredAt: time.Now()}})
	})
	if err != nil {
		return nil, err
	}
	return s.WatchdogStore.Append(ctx, stream, expectedSeq, events)
}

// A task that moves on while the watchdog decides (its worker appended
// output after the lease was read) is left to the next sweep, which reads
// the lease again: the watchdog does not take a task from a worker that
// shows signs of life on the strength of a lease it read before them.
func TestWatchdogLeavesATaskThatMovedOnToTheNextSweep(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startTask(t, domain.AdapterMock, `{}`, 60)
		b.crashedWorker(t, id, "slow-worker")
		dog := worker.NewWatchdog(&aliveWorkerStore{WatchdogStore: b.store}, worker.WatchdogConfig{})
		if n, err := dog.Sweep(t.Context()); err != nil || n != 0 {
			t.Fatalf("Sweep = %d, %v; want 0: the task moved on after its lease was read", n, err)
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskOutputType {
			t.Fatalf("the task's last event is %s, want the worker's task.output", got)
		}
	})
}
