package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// TestConnections checks the settings the durability and concurrency
// promises rest on: WAL, synchronous=FULL, one writer connection, read-only
// readers.
func TestConnections(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()

	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "5000",
	} {
		var got string
		if err := s.writer.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("writer PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if n := s.writer.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("the writer pool allows %d connections, want 1", n)
	}
	if _, err := s.reader.ExecContext(t.Context(), "CREATE TABLE intruder (x INTEGER)"); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestQueriesUseIndexes: every query, the idempotency look-up run before
// each append included, probes an index instead of scanning the table.
func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for query, args := range map[string][]any{
		dbsqlc.EventsGetByIDs: {`["x"]`},
		dbsqlc.StreamHead:     {"s"},
		dbsqlc.StreamRead:     {"s", 0, 10},
		dbsqlc.FeedRead:       {0, 10},
		dbsqlc.FeedHead:       nil,
		// The count of a tenant's leases and the waiting task lists.
		dbsqlc.LeasePutWithin:          {"task-1", "tenant-1", "w1", 1, 0, 3},
		dbsqlc.LeaseExists:             {"task-1"},
		dbsqlc.TaskWaitingList:         {10},
		dbsqlc.TaskWaitingListByTenant: {"tenant-1", 10},
	} {
		rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		_ = rows.Close()
		t.Logf("%s\n  -> %s", query, strings.Join(plan, "; "))
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN events") {
				t.Errorf("query %s scans the events table: %v", query, plan)
			}
			// The small tables may be read in an index's order, never whole.
			if strings.HasPrefix(step, "SCAN task_") && !strings.Contains(step, " USING ") {
				t.Errorf("query %s scans a table: %v", query, plan)
			}
		}
	}
}

// TestAppendWakesWaiters: this store's own appends wake WaitFeed through the
// broadcast, not through the fallback poll (set to an hour here).
func TestAppendWakesWaiters(t *testing.T) {
	t.Parallel()
	s, err := open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	woken := make(chan error, 1)
	go func() { woken <- s.WaitFeed(ctx, 0) }()
	time.Sleep(50 * time.Millisecond) // let it block; the test holds without this too
	stream := eventstore.Stream{ID: "task-1", Type: domain.StreamTask, TenantID: "tenant-1"}
	_, err = s.Append(ctx, stream, 0, []domain.NewEvent{{
		EventID: uuid.New(), Type: domain.TaskProgressType, Payload: []byte(`{"percent":50}`), OccurredAt: time.Now(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-woken; err != nil {
		t.Fatalf("WaitFeed: %v", err)
	}
}
