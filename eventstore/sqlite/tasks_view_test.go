package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/storetest"
	"github.com/axontask/axontask/projections"
)

// TestTaskViewsOfPrunedTask: retention may prune payloads; the task still
// gets its row (without the name and adapter the pruned payload held).
func TestTaskViewsOfPrunedTask(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path, eventstore.Options{})
	stream := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "tenant-1"}
	created, err := domain.MarshalPayload(&domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "pruned", TimeoutS: 60})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	stored := appendOK(t, s, stream, 0, []domain.NewEvent{{EventID: uuid.New(), Type: domain.TaskCreatedType, Payload: created, OccurredAt: at}})[0]
	raw := openRaw(t, path)
	if _, err := raw.ExecContext(context.Background(), `UPDATE events SET payload = NULL, payload_salt = NULL WHERE event_id = ?`, stored.EventID.String()); err != nil {
		t.Fatalf("prune: %v", err)
	}
	events, err := s.ReadFeed(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, events); err != nil {
		t.Fatal(err)
	}
	views, err := s.TaskViewsList(t.Context(), projections.TaskQuery{TenantID: "tenant-1", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := projections.TaskView{TaskID: stream.ID, TenantID: "tenant-1", State: domain.StateCreated, CreatedAt: at, LastSeq: 1}
	if len(views) != 1 || views[0] != want {
		t.Fatalf("views %+v, want [%+v]", views, want)
	}
}

// TestTaskViewsClosed: a closed store answers eventstore.ErrClosed.
func TestTaskViewsClosed(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, nil); err == nil {
		t.Error("TaskViewsApply on a closed store succeeded")
	}
	if _, err := s.TaskViewsList(t.Context(), projections.TaskQuery{TenantID: "t", Limit: 1}); err == nil {
		t.Error("TaskViewsList on a closed store succeeded")
	}
}

// TestMigrationQueuedAtBackfill: migration 0008 gives the queued rows
// projected before it the time of their latest task.queued event, and
// leaves the other rows without one.
func TestMigrationQueuedAtBackfill(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path, eventstore.Options{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	storetest.AppendQueuedAtFixture(t, s, at)
	feed, err := s.ReadFeed(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, feed); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The file as it was before migration 0008, then migrated on opening.
	if _, err := openRaw(t, path).ExecContext(context.Background(), `DROP INDEX task_views_queued_idx;
		ALTER TABLE task_views DROP COLUMN queued_at;
		DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	migrated := open(t, path, eventstore.Options{})
	storetest.CheckQueuedAtBackfilled(t, migrated, at)
}
