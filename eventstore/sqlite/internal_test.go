package sqlite

import (
	"context"
	"path/filepath"
	"slices"
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
// each append included, probes the index meant for it instead of scanning
// the table.
func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{dbsqlc.EventsGetByIDs, []any{`["x"]`}, "SEARCH events USING INDEX sqlite_autoindex_events_1"},
		{dbsqlc.StreamHead, []any{"s"}, "SEARCH events USING INDEX sqlite_autoindex_events_2"},
		{dbsqlc.StreamRead, []any{"s", 0, 10}, "SEARCH events USING INDEX sqlite_autoindex_events_2"},
		{dbsqlc.FeedRead, []any{0, 10}, "SEARCH events USING INTEGER PRIMARY KEY"},
		{dbsqlc.TenantFeedRead, []any{"tenant-1", -1, "[]", "[]", 10}, "SEARCH events USING INDEX events_tenant_position_idx"},
		// The largest position is one probe of the rowid, which SQLite's
		// plan does not name: a SEARCH step with nothing after it.
		{dbsqlc.FeedHead, nil, "SEARCH events"},
		// The count of a tenant's leases and the waiting task lists.
		{dbsqlc.LeasePutWithin, []any{"task-1", "tenant-1", "w1", 1, 0, 3}, "SEARCH t USING COVERING INDEX task_leases_tenant_id_idx"},
		{dbsqlc.LeaseExists, []any{"task-1"}, "SEARCH task_leases USING COVERING INDEX sqlite_autoindex_task_leases_1"},
		{dbsqlc.TaskWaitingList, []any{10}, "SCAN task_waiting USING INDEX task_waiting_since_idx"},
		{dbsqlc.TaskWaitingListByTenant, []any{"tenant-1", 10}, "SEARCH task_waiting USING INDEX task_waiting_tenant_since_idx"},
	} {
		plan := checkPlan(t, s, tc.query, tc.args, tc.want)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN events") {
				t.Errorf("query %s scans the events table: %v", tc.query, plan)
			}
			// The small tables may be read in an index's order, never whole.
			if strings.HasPrefix(step, "SCAN task_") && !strings.Contains(step, " USING ") {
				t.Errorf("query %s scans a table: %v", tc.query, plan)
			}
		}
	}
}

// checkPlan returns the steps of the query plan of query with args on s's
// readers. It fails the test if the plan cannot be read, is empty, or lacks
// a step for each of want: a step is the access it names ("SEARCH events
// USING INDEX events_idx"), whole or followed by its constraints in
// parentheses, so that a want names one index and not its prefixes.
func checkPlan(t *testing.T, s *Store, query string, args []any, want ...string) []string {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer func() { _ = rows.Close() }()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	if len(plan) == 0 {
		t.Fatalf("EXPLAIN QUERY PLAN %s: empty plan", query)
	}
	t.Logf("%s\n  -> %s", query, strings.Join(plan, "; "))
	for _, w := range want {
		if !slices.ContainsFunc(plan, func(step string) bool { return step == w || strings.HasPrefix(step, w+" (") }) {
			t.Errorf("query %s: plan %v has no step %q", query, plan, w)
		}
	}
	return plan
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
	WaitBlocked(t, s, 1)
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
