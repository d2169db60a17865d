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
	// The first page and a later one, of every state and of one, without
	// a lower bound on the creation time and with one.
	after := time.Now().UnixMicro()
	since := after - time.Hour.Microseconds()
	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{dbsqlc.TaskViewsList, []any{"t", int64(math.MaxInt64), "", int64(math.MinInt64), 10}, "SEARCH task_views USING INDEX task_views_tenant_created_idx"},
		{dbsqlc.TaskViewsListByState, []any{"t", string(domain.StateRunning), int64(math.MaxInt64), "", int64(math.MinInt64), 10}, "SEARCH task_views USING INDEX task_views_tenant_state_created_idx"},
		{dbsqlc.TaskViewsList, []any{"t", after, "x", int64(math.MinInt64), 10}, "SEARCH task_views USING INDEX task_views_tenant_created_idx"},
		{dbsqlc.TaskViewsListByState, []any{"t", string(domain.StateRunning), after, "x", int64(math.MinInt64), 10}, "SEARCH task_views USING INDEX task_views_tenant_state_created_idx"},
		{dbsqlc.TaskViewsList, []any{"t", after, "", since, 10}, "SEARCH task_views USING INDEX task_views_tenant_created_idx"},
		{dbsqlc.TaskViewsListByState, []any{"t", string(domain.StateRunning), after, "", since, 10}, "SEARCH task_views USING INDEX task_views_tenant_state_created_idx"},
	} {
		checkFollowsIndex(t, tc.query, checkPlan(t, s, tc.query, tc.args, tc.want))
	}
}

// checkFollowsIndex fails the test if plan, the plan of query, scans a
// table or sorts.
func checkFollowsIndex(t *testing.T, query string, plan []string) {
	t.Helper()
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN") || strings.Contains(step, "TEMP B-TREE") {
			t.Errorf("query %s does not follow an index: %v", query, plan)
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
	plan := checkPlan(t, s, query, []any{time.Now().UnixMicro(), 100},
		"SEARCH v USING INDEX task_views_queued_idx",
		"SEARCH l USING COVERING INDEX sqlite_autoindex_task_leases_1",
		"SEARCH w USING COVERING INDEX sqlite_autoindex_task_waiting_1")
	checkFollowsIndex(t, query, plan)
}
