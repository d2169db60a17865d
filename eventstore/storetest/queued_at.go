package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
)

// AppendQueuedAtFixture appends three task streams of tenant-1, stamped
// from at on: task-created (created only), task-running (created, queued
// at at+1 s, started) and task-requeued (the same, then queued again at
// at+3 s). It returns how many events it appended. Engines' tests of
// migration 0008 project them, drop task_views.queued_at, migrate and call
// CheckQueuedAtBackfilled.
func AppendQueuedAtFixture(t *testing.T, s eventstore.Store, at time.Time) int64 {
	t.Helper()
	lifecycle := func() []domain.NewEvent {
		return []domain.NewEvent{
			taskEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "n", TimeoutS: 60}, at),
			taskEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: 1}, at.Add(time.Second)),
			taskEvent(t, domain.TaskStartedType, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"}, at.Add(2*time.Second)),
			taskEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: 2, Reason: "retry"}, at.Add(3*time.Second)),
		}
	}
	var n int64
	for id, events := range map[string]int{"task-requeued": 4, "task-running": 3, "task-created": 1} {
		appendOK(t, s, eventstore.Stream{ID: id, Type: domain.StreamTask, TenantID: "tenant-1"}, 0, lifecycle()[:events])
		n += int64(events)
	}
	return n
}

// QueuedAtStore is what CheckQueuedAtBackfilled reads.
type QueuedAtStore interface {
	TaskViewsList(ctx context.Context, q projections.TaskQuery) ([]projections.TaskView, error)
	TaskViewsStaleQueued(ctx context.Context, queuedBefore time.Time, limit int) ([]eventstore.WaitingTask, error)
}

// CheckQueuedAtBackfilled fails t unless migration 0008 filled in the
// queued_at of AppendQueuedAtFixture's task views: the latest queuing of a
// task still queued, none for the others.
func CheckQueuedAtBackfilled(t *testing.T, s QueuedAtStore, at time.Time) {
	t.Helper()
	views, err := s.TaskViewsList(t.Context(), projections.TaskQuery{TenantID: "tenant-1", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"task-requeued": at.Add(3 * time.Second), "task-running": {}, "task-created": {}}
	if len(views) != len(want) {
		t.Fatalf("views %+v, want %d", views, len(want))
	}
	for _, v := range views {
		if !v.QueuedAt.Equal(want[v.TaskID]) {
			t.Errorf("%s: QueuedAt %s after the migration, want %s", v.TaskID, v.QueuedAt, want[v.TaskID])
		}
	}
	stale, err := s.TaskViewsStaleQueued(t.Context(), at.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 1 || stale[0].TaskID != "task-requeued" || !stale[0].Since.Equal(at.Add(3*time.Second)) {
		t.Fatalf("TaskViewsStaleQueued after the migration = %+v, want task-requeued since %s", stale, at.Add(3*time.Second))
	}
}
