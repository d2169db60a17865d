package sqlite

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// TestTaskViewsListUsesIndexes: every shape of the list query is an index
// range in index order: no scan of the table, no sort.
func TestTaskViewsListUsesIndexes(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	// The first page and a later one, of every state and of one.
	after := time.Now().UnixMicro()
	for _, tc := range []struct {
		query string
		args  []any
	}{
		{dbsqlc.TaskViewsList, []any{"t", int64(math.MaxInt64), "", 10}},
		{dbsqlc.TaskViewsListByState, []any{"t", string(domain.StateRunning), int64(math.MaxInt64), "", 10}},
		{dbsqlc.TaskViewsList, []any{"t", after, "x", 10}},
		{dbsqlc.TaskViewsListByState, []any{"t", string(domain.StateRunning), after, "x", 10}},
	} {
		query := tc.query
		rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, tc.args...)
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
			if strings.HasPrefix(step, "SCAN") || strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("query %s does not follow an index: %v", query, plan)
			}
		}
	}
}

// TestStaleQueuedTasksUsesIndex: the stale queued task query is a range of
// task_views_queued_idx in index order, with primary-key probes of
// task_leases and task_waiting: no scan of a table, no sort.
func TestStaleQueuedTasksUsesIndex(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	query := dbsqlc.TaskViewsStaleQueued
	rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, time.Now().UnixMicro(), 100)
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
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "USING INDEX task_views_queued_idx") {
		t.Errorf("the query does not use task_views_queued_idx: %v", plan)
	}
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN") || strings.Contains(step, "TEMP B-TREE") {
			t.Errorf("the query does not follow an index: %v", plan)
		}
	}
}
