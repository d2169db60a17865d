package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/eventstore/storetest"
	"github.com/axontask/axontask/projections"
)

// TestApplyTaskViewsRace: stores of two processes apply the same batch at
// once; the checkpoint row lock lets exactly one of them win.
func TestApplyTaskViewsRace(t *testing.T) {
	t.Parallel()
	s1, url := openStore(t, Config{})
	s2 := openStoreAt(t, url, Config{DisableSealer: true})
	stream := taskStream("tenant-1")
	created, err := domain.MarshalPayload(&domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "race", TimeoutS: 60})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Append(t.Context(), stream, 0, []domain.NewEvent{{EventID: uuid.New(), Type: domain.TaskCreatedType, Payload: created, OccurredAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Append(t.Context(), stream, 1, outputEvents(10, 0)); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, s1, 11)
	events := readWholeFeed(t, s1)

	for round := range 5 {
		if err := s1.TaskViewsReset(t.Context(), projections.TaskViewsName); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.TaskViewsApply(context.Background(), projections.TaskViewsName, 0, events)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, projections.ErrCheckpointMoved):
				t.Fatalf("round %d: a losing apply failed with %v, want a CheckpointError", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d applies won, want 1", round, won)
		}
		views, err := s2.TaskViewsList(t.Context(), projections.TaskQuery{TenantID: "tenant-1", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(views) != 1 || views[0].LastSeq != 11 || views[0].LastPosition != 10 || views[0].Name != "race" {
			t.Fatalf("round %d: views %+v", round, views)
		}
		if pos, err := s2.TaskViewsCheckpoint(t.Context(), projections.TaskViewsName); err != nil || pos != 11 {
			t.Fatalf("round %d: checkpoint %d, %v; want 11", round, pos, err)
		}
	}
}

// TestMigrationQueuedAtBackfill: migration 0008 gives the queued rows
// projected before it the time of their latest task.queued event, and
// leaves the other rows without one.
func TestMigrationQueuedAtBackfill(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	n := storetest.AppendQueuedAtFixture(t, s, at)
	waitFeed(t, s, n)
	if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, readWholeFeed(t, s)); err != nil {
		t.Fatal(err)
	}

	// The database as it was before migration 0008, then migrated.
	if _, err := s.pool.Exec(t.Context(), `ALTER TABLE task_views DROP COLUMN queued_at;
		DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(t.Context(), s.pool); err != nil {
		t.Fatal(err)
	}

	migrated := openStoreAt(t, url, Config{DisableSealer: true})
	storetest.CheckQueuedAtBackfilled(t, migrated, at)
}

// TestTaskViewsListUsesIndexes: the generic plans of the task list, of
// every state and of one, are ranges of their (tenant_id[, state],
// created_at, task_id) indexes in index order, with the keyset and the
// creation time's lower bound in the index condition and no sort.
func TestTaskViewsListUsesIndexes(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := t.Context()
	var all, byState capturedSQL
	if _, err := s.q.TaskViewsList(ctx, &all, dbsqlc.TaskViewsListParams{}); !errors.Is(err, errCaptured) {
		t.Fatalf("TaskViewsList did not run its query: %v", err)
	}
	if _, err := s.q.TaskViewsListByState(ctx, &byState, dbsqlc.TaskViewsListByStateParams{}); !errors.Is(err, errCaptured) {
		t.Fatalf("TaskViewsListByState did not run its query: %v", err)
	}
	explain := genericPlans(t, url, map[string]string{"list_all": all.sql, "list_state": byState.sql})
	for _, tc := range []struct{ explain, index string }{
		{"list_all('tenant-a', '9999-12-31', '', '2026-12-01', 100)", "task_views_tenant_created_idx"},
		{"list_state('tenant-a', 'running', '9999-12-31', '', '2026-12-01', 100)", "task_views_tenant_state_created_idx"},
	} {
		plan := explain(tc.explain)
		if !strings.Contains(plan, "using "+tc.index) || strings.Contains(plan, "Sort") || !strings.Contains(plan, "Index Cond") ||
			!strings.Contains(plan[strings.Index(plan, "Index Cond"):], "created_at >") {
			t.Errorf("%s is not a range of %s bounded by the creation time, without a sort:\n%s", tc.explain, tc.index, plan)
		}
	}
}

// The per-state counts behind TaskViewsCount follow every kind of write to
// task_views, including one the projection never makes: an operator's
// TRUNCATE before a rebuild leaves no count behind to be doubled.
func TestTaskViewCountsFollowTruncate(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{})
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO task_views (task_id, tenant_id, state, created_at, last_seq, last_position)
		VALUES ('a', 't', 'running', now(), 1, 0), ('b', 't', 'succeeded', now(), 1, 1), ('c', 't', 'succeeded', now(), 1, 2)`); err != nil {
		t.Fatal(err)
	}
	counts := func() map[domain.TaskState]int64 {
		t.Helper()
		c, err := s.TaskViewsCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.ByState
	}
	if got := counts(); got[domain.StateRunning] != 1 || got[domain.StateSucceeded] != 2 || len(got) != 2 {
		t.Fatalf("counts after the insert: %v", got)
	}
	if _, err := s.pool.Exec(ctx, "TRUNCATE task_views"); err != nil {
		t.Fatal(err)
	}
	if got := counts(); len(got) != 0 {
		t.Fatalf("counts after TRUNCATE: %v, want none", got)
	}
}
