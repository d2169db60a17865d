package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
)

// TestCancelQueuedTask: given a queued task, when it is canceled, then
// task.canceled ends it; canceling it again is a no-op.
func TestCancelQueuedTask(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenQueuedTask(t, tenant)

		res, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant, Reason: "not needed", Meta: meta})
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if res.Decision != domain.CancelNow || res.State != domain.StateCanceled || res.LastSeq != 3 || len(res.Events) != 1 {
			t.Errorf("cancel = %+v; want CancelNow, canceled, last seq 3, one event", res)
		}
		task, events := thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskCanceledType)
		checkSameEvents(t, "the appended event", res.Events, events[2:])
		canceled := events[2]
		if string(canceled.Payload) != `{"reason":"not needed"}` || canceled.Metadata != meta || !canceled.OccurredAt.Equal(domain.NormalizeTime(now)) {
			t.Errorf("task.canceled: payload %s, metadata %+v, at %v; want the reason, %+v, %v", canceled.Payload, canceled.Metadata, canceled.OccurredAt, meta, now)
		}
		if task.State() != domain.StateCanceled || !task.EndedAt().Equal(domain.NormalizeTime(now)) {
			t.Errorf("rebuilt task: %s, ended %v; want canceled at %v", task.State(), task.EndedAt(), now)
		}

		again, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
		if err != nil || again.Decision != domain.CancelNothing || len(again.Events) != 0 || again.State != domain.StateCanceled || again.LastSeq != 3 {
			t.Errorf("cancel again = %+v, %v; want CancelNothing, no events, canceled at seq 3", again, err)
		}
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskCanceledType)
		b.thenHolds(t) // no worker runs it
	})
}

// TestCancelRunningTask: given a running task, when it is canceled, then
// its worker is asked to hold its output back and task.cancel_requested
// asks it to stop; canceling it again is a no-op.
func TestCancelRunningTask(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenRunningTask(t, tenant)

		res, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant, CommandID: "cancel-1", Meta: meta})
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if res.Decision != domain.CancelRequest || res.State != domain.StateRunning || res.LastSeq != 4 || len(res.Events) != 1 {
			t.Errorf("cancel = %+v; want CancelRequest, running, last seq 4, one event", res)
		}
		task, events := thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType, domain.TaskCancelRequestedType)
		wantMeta := meta
		wantMeta.CausationID = "cancel-1"
		if e := events[3]; string(e.Payload) != `{}` || e.Metadata != wantMeta {
			t.Errorf("task.cancel_requested: payload %s, metadata %+v; want {}, %+v", e.Payload, e.Metadata, wantMeta)
		}
		if !task.CancelRequested() {
			t.Error("the rebuilt task has no cancel requested")
		}

		for _, commandID := range []string{"", "cancel-2", "cancel-1"} {
			again, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant, CommandID: commandID})
			if err != nil || again.Decision != domain.CancelNothing || len(again.Events) != 0 || again.State != domain.StateRunning || again.LastSeq != 4 {
				t.Errorf("cancel again (command id %q) = %+v, %v; want CancelNothing, no events, running at seq 4", commandID, again, err)
			}
		}
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType, domain.TaskCancelRequestedType)
		b.thenHolds(t, id.String()+"/"+tenant)
	})
}

// TestCancelTaskWhoseWorkerIsGone: given a running task whose lease was
// lost, when it is canceled, then it is canceled at once (no worker would
// act on a request).
func TestCancelTaskWhoseWorkerIsGone(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenRunningTask(t, tenant)
		b.given(t, id, tenant, &domain.TaskLeaseLost{Attempt: 1, WorkerID: "worker-1"})
		res, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
		if err != nil || res.Decision != domain.CancelNow || res.State != domain.StateCanceled {
			t.Fatalf("cancel = %+v, %v; want CancelNow, canceled", res, err)
		}
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType, domain.TaskLeaseLostType, domain.TaskCanceledType)
	})
}

// TestCancelFinishedTask: given a task that ended otherwise than canceled,
// a cancel fails with an error that wraps domain.ErrTaskFinished and names
// the state; given a task that a worker canceled, it is a no-op. Neither
// writes anything.
func TestCancelFinishedTask(t *testing.T) {
	t.Parallel()
	exit := 3
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		for _, tc := range []struct {
			end   any
			state domain.TaskState
		}{
			{&domain.TaskSucceeded{ExitCode: 0}, domain.StateSucceeded},
			{&domain.TaskFailed{Error: "exit status 3", ExitCode: &exit}, domain.StateFailed},
			{&domain.TaskTimedOut{TimeoutS: 600}, domain.StateTimedOut},
			{&domain.TaskCanceled{Reason: "by the worker"}, domain.StateCanceled},
		} {
			id := b.givenRunningTask(t, tenant)
			b.given(t, id, tenant, tc.end)
			before := readTask(t, b.store, id)
			res, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
			if tc.state == domain.StateCanceled {
				if err != nil || res.Decision != domain.CancelNothing || res.State != domain.StateCanceled {
					t.Errorf("cancel of a canceled task = %+v, %v; want CancelNothing, canceled", res, err)
				}
			} else {
				checkFinished(t, err, id, tc.state)
			}
			if after := readTask(t, b.store, id); len(after) != len(before) {
				t.Errorf("cancel of a %s task wrote %d events", tc.state, len(after)-len(before))
			}
		}
	})
}

// TestCancelTaskNotFound: an unknown task, another tenant's task and a
// stream that is no task are all ErrTaskNotFound, and nothing is written.
func TestCancelTaskNotFound(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		theirs := b.givenQueuedTask(t, otherTenant)
		notATask := uuid.New()
		ev := newEvent(t, &domain.TaskProgress{Percent: 1})
		if _, err := b.store.Append(t.Context(), eventstore.Stream{ID: notATask.String(), Type: domain.StreamUser, TenantID: tenant}, 0, []domain.NewEvent{ev}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			id   uuid.UUID
		}{
			{"unknown task", uuid.New()},
			{"nil task id", uuid.Nil},
			{"another tenant's task", theirs},
			{"a user stream", notATask},
		} {
			_, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: tc.id, TenantID: tenant, Reason: "x"})
			if !errors.Is(err, commands.ErrTaskNotFound) {
				t.Errorf("cancel %s: got %v, want ErrTaskNotFound", tc.name, err)
			}
			if err != nil && strings.Contains(err.Error(), otherTenant) {
				t.Errorf("cancel %s: %q names the other tenant", tc.name, err)
			}
		}
		thenStream(t, b.store, theirs, domain.TaskCreatedType, domain.TaskQueuedType)
	})
}

// TestCancelRejects: invalid commands fail with a validation error naming
// the field before any I/O.
func TestCancelRejects(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenQueuedTask(t, tenant)
		for _, tc := range []struct {
			cmd   commands.CancelTask
			field string
		}{
			{commands.CancelTask{TaskID: id, TenantID: ""}, "tenant_id"},
			{commands.CancelTask{TaskID: id, TenantID: tenant, Reason: strings.Repeat("r", commands.MaxCancelReasonLen+1)}, "reason"},
			{commands.CancelTask{TaskID: id, TenantID: tenant, Reason: "bad \xff"}, "reason"},
			{commands.CancelTask{TaskID: id, TenantID: tenant, CommandID: "a\x00b"}, "command_id"},
		} {
			_, err := b.cancel.Handle(t.Context(), tc.cmd)
			checkValidation(t, err, tc.field)
		}
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType)
	})
}

// TestCancelRepeatedCommand: a cancel repeated with the same CommandID after
// the task finished (it succeeded before the worker acted on the request)
// is a no-op, not an error; a new cancel is told the task has finished.
func TestCancelRepeatedCommand(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenRunningTask(t, tenant)
		cmd := commands.CancelTask{TaskID: id, TenantID: tenant, CommandID: "http-retry-1"}
		if _, err := b.cancel.Handle(t.Context(), cmd); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		b.given(t, id, tenant, &domain.TaskSucceeded{ExitCode: 0})

		res, err := b.cancel.Handle(t.Context(), cmd)
		if err != nil || res.Decision != domain.CancelNothing || res.State != domain.StateSucceeded {
			t.Errorf("repeated cancel = %+v, %v; want CancelNothing, succeeded", res, err)
		}
		cmd.CommandID = "http-retry-2"
		_, err = b.cancel.Handle(t.Context(), cmd)
		checkFinished(t, err, id, domain.StateSucceeded)
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType,
			domain.TaskCancelRequestedType, domain.TaskSucceededType)
	})
}

// TestCancelReadsLongStreams: a stream longer than one read page is read to
// its end before deciding.
func TestCancelReadsLongStreams(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{MaxReadLimit: 7}, func(t *testing.T, b *testBundle) {
		id := b.givenRunningTask(t, tenant)
		output := make([]any, 30)
		for i := range output {
			output[i] = &domain.TaskOutput{Data: fmt.Sprintf("line %d\n", i), Offset: int64(7 * i), Stream: domain.Stdout}
		}
		b.given(t, id, tenant, output...)
		res, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
		if err != nil || res.Decision != domain.CancelRequest || res.LastSeq != 34 {
			t.Fatalf("cancel = %+v, %v; want CancelRequest at seq 34", res, err)
		}
		if _, events := thenStream(t, b.store, id); events[33].Type != domain.TaskCancelRequestedType {
			t.Errorf("seq 34 is %s, want task.cancel_requested", events[33].Type)
		}
	})
}

// busyWorkerStore stands for a worker that appends progress to the task
// between each read and append of the handler, so that each of the
// handler's appends finds the stream moved on.
type busyWorkerStore struct {
	eventstore.Store
	appends atomic.Int32
}

func (s *busyWorkerStore) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	s.appends.Add(1)
	progress := events[0]
	progress.EventID, progress.Type, progress.Payload = uuid.New(), domain.TaskProgressType, []byte(`{"percent":50}`)
	if _, err := s.Store.Append(ctx, stream, expectedSeq, []domain.NewEvent{progress}); err != nil {
		return nil, fmt.Errorf("busy worker: %w", err)
	}
	return s.Store.Append(ctx, stream, expectedSeq, events)
}

// TestCancelGivesUp: when the task moves on before every append, the
// handler decides again until RetryFor has passed, then fails with a
// conflict and writes no cancel.
func TestCancelGivesUp(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenRunningTask(t, tenant)
		busy := &busyWorkerStore{Store: b.store}
		var ticks atomic.Int64 // a clock that moves a second each time it is read
		clock := func() time.Time { return now.Add(time.Duration(ticks.Add(1)) * time.Second) }
		h, err := commands.NewCancelTaskHandler(busy, commands.CancelTaskConfig{RetryFor: 10 * time.Second, NowFunc: clock})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
		if !errors.Is(err, eventstore.ErrConflict) || !strings.Contains(err.Error(), "attempts") {
			t.Errorf("cancel of an ever-changing task: got %v, want a conflict naming its attempts", err)
		}
		n := busy.appends.Load()
		if n < 2 {
			t.Errorf("the handler tried %d appends, want it to decide again", n)
		}
		want := []domain.EventType{domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType}
		for range n {
			want = append(want, domain.TaskProgressType)
		}
		thenStream(t, b.store, id, want...)
	})
}

// claimingStore stands for a worker that claims the task between the
// handler's first read and its first append.
type claimingStore struct {
	eventstore.Store
	claimed atomic.Bool
}

func (s *claimingStore) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	if !s.claimed.Swap(true) {
		started := events[0]
		started.EventID, started.Type, started.Payload = uuid.New(), domain.TaskStartedType, []byte(`{"attempt":1,"worker_id":"worker-1"}`)
		if _, err := s.Store.Append(ctx, stream, expectedSeq, []domain.NewEvent{started}); err != nil {
			return nil, fmt.Errorf("claiming worker: %w", err)
		}
	}
	return s.Store.Append(ctx, stream, expectedSeq, events)
}

// TestCancelHoldsTheOutputOfATaskClaimedMeanwhile: a queued task that a
// worker claims while the cancel runs gets a cancel request, and its worker
// is asked to hold its output first.
func TestCancelHoldsTheOutputOfATaskClaimedMeanwhile(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := b.givenQueuedTask(t, tenant)
		h, err := commands.NewCancelTaskHandler(&claimingStore{Store: b.store}, commands.CancelTaskConfig{HoldOutput: b.holdOutput})
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
		if err != nil || res.Decision != domain.CancelRequest {
			t.Fatalf("cancel = %+v, %v; want a cancel request", res, err)
		}
		thenStream(t, b.store, id, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType, domain.TaskCancelRequestedType)
		b.thenHolds(t, id.String()+"/"+tenant)
	})
}

// TestCancelRacesWithClaims: cancels race with workers claiming the task
// (appending task.started at the expected seq, as the worker does). Every
// cancel succeeds, and the stream ends consistent: either the cancel came
// first (canceled, no claim) or one claim did (started, then exactly one
// cancel_requested).
func TestCancelRacesWithClaims(t *testing.T) {
	t.Parallel()
	const rounds, workers, cancelers = 8, 6, 4
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		counting := &conflictCountingStore{Store: b.store}
		cancel, err := commands.NewCancelTaskHandler(counting, commands.CancelTaskConfig{})
		if err != nil {
			t.Fatal(err)
		}
		outcomes := map[string]int{}
		for range rounds {
			id := b.givenQueuedTask(t, tenant)
			stream := eventstore.Stream{ID: id.String(), Type: domain.StreamTask, TenantID: tenant}
			var wg sync.WaitGroup
			ready := make(chan struct{})
			claims := make(chan error, workers)
			cancels := make(chan error, cancelers)
			for w := range workers {
				wg.Go(func() {
					<-ready
					started := newEvent(t, &domain.TaskStarted{Attempt: 1, WorkerID: fmt.Sprintf("worker-%d", w)})
					_, err := b.store.Append(context.Background(), stream, 2, []domain.NewEvent{started})
					claims <- err
				})
			}
			for range cancelers {
				wg.Go(func() {
					<-ready
					_, err := cancel.Handle(context.Background(), commands.CancelTask{TaskID: id, TenantID: tenant})
					cancels <- err
				})
			}
			close(ready)
			wg.Wait()
			close(claims)
			close(cancels)

			won := 0
			for err := range claims {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, eventstore.ErrConflict):
					t.Errorf("claim: %v", err)
				}
			}
			for err := range cancels {
				if err != nil {
					t.Errorf("cancel racing with claims: %v", err)
				}
			}
			task, events := thenStream(t, b.store, id)
			types := make([]string, len(events))
			for i, e := range events {
				types[i] = string(e.Type)
			}
			got := strings.Join(types, " ")
			switch {
			case won == 0 && got == "task.created task.queued task.canceled" && task.State() == domain.StateCanceled:
			case won == 1 && got == "task.created task.queued task.started task.cancel_requested" && task.CancelRequested():
			default:
				t.Errorf("round ended with %d claims and %s (state %s)", won, got, task.State())
			}
			outcomes[got]++
		}
		t.Logf("outcomes: %v; the cancels' appends met %d conflicts", outcomes, counting.conflicts.Load())
	})
}

// conflictCountingStore counts the conflicts its appends meet.
type conflictCountingStore struct {
	eventstore.Store
	conflicts atomic.Int32
}

func (s *conflictCountingStore) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	stored, err := s.Store.Append(ctx, stream, expectedSeq, events)
	if errors.Is(err, eventstore.ErrConflict) {
		s.conflicts.Add(1)
	}
	return stored, err
}

// checkFinished fails unless err reports that task id has finished in state.
func checkFinished(t *testing.T, err error, id uuid.UUID, state domain.TaskState) {
	t.Helper()
	var finished *commands.TaskFinishedError
	if !errors.Is(err, domain.ErrTaskFinished) || !errors.As(err, &finished) {
		t.Fatalf("cancel of a %s task: got %v, want a *TaskFinishedError wrapping domain.ErrTaskFinished", state, err)
	}
	if finished.TaskID != id || finished.State != state || !strings.Contains(err.Error(), string(state)) {
		t.Errorf("cancel of a %s task: %q (%+v) should name task %s and state %s", state, err, finished, id, state)
	}
}

// readCounter counts the reads of a store that says its read bound.
type readCounter struct {
	teststores.Store
	reads int
}

func (r *readCounter) ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error) {
	r.reads++
	return r.Store.ReadStream(ctx, streamID, afterSeq, limit)
}

func (r *readCounter) ReadLimit() int { return r.Store.(eventstore.ReadLimiter).ReadLimit() }

// TestLoadStopsAtAShortPage: Load reads a stream shorter than a read's
// bound in one read, and a longer one page by page to its end (a page of
// exactly the bound is followed by one more read).
func TestLoadStopsAtAShortPage(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{MaxReadLimit: 7}, func(t *testing.T, b *testBundle) {
		id := b.givenRunningTask(t, tenant) // 3 events
		stream := eventstore.Stream{ID: id.String(), Type: domain.StreamTask, TenantID: tenant}
		r := &readCounter{Store: b.store}
		var task domain.Task
		if err := commands.Load(t.Context(), r, stream, &task); err != nil || task.Seq() != 3 || r.reads != 1 {
			t.Fatalf("Load of 3 events: seq %d in %d reads (%v), want seq 3 in 1 read", task.Seq(), r.reads, err)
		}
		output := make([]any, 11) // 14 events: two full pages
		for i := range output {
			output[i] = &domain.TaskOutput{Data: fmt.Sprintf("line %d\n", i), Offset: int64(7 * i), Stream: domain.Stdout}
		}
		b.given(t, id, tenant, output...)
		r.reads, task = 0, domain.Task{}
		if err := commands.Load(t.Context(), r, stream, &task); err != nil || task.Seq() != 14 || r.reads != 3 {
			t.Fatalf("Load of 14 events: seq %d in %d reads (%v), want seq 14 in 3 reads", task.Seq(), r.reads, err)
		}
	})
}
