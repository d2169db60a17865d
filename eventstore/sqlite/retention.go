package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var (
	_ eventstore.PruneStore      = (*Store)(nil)
	_ projections.EndedTaskStore = (*Store)(nil)
)

// TaskViewsTenantsWithEnded implements projections.EndedTaskStore. It runs on
// the read-only pool and never waits for the writer: one query, a loose
// index scan of task_views_prunable_idx (two probes per tenant with tasks
// to prune, whatever their number).
func (s *Store) TaskViewsTenantsWithEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list tenants with ended tasks: %w", eventstore.ErrClosed)
	}
	cutoff, limit, err := engine.ValidateTaskViewsTenantsWithEnded(endedBefore, afterTenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list tenants with ended tasks: %w", err)
	}
	ids, err := orEmpty(s.q.TaskViewsTenantsWithEnded(ctx, s.rdb, dbsqlc.TaskViewsTenantsWithEndedParams{
		AfterTenantID: afterTenantID, EndedBefore: micros(cutoff), MaxTenants: int64(limit),
	}))
	if err != nil {
		return nil, fmt.Errorf("list tenants with tasks ended before %s: %w", cutoff.Format(time.RFC3339Nano), s.closedOr(err))
	}
	return ids, nil
}

// TaskViewsEndedOfTenant implements projections.EndedTaskStore. It runs on the read-only
// pool and never waits for the writer: one index range of
// task_views_prunable_idx, in the index's order.
func (s *Store) TaskViewsEndedOfTenant(ctx context.Context, tenantID string, endedBefore time.Time, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list ended tasks: %w", eventstore.ErrClosed)
	}
	cutoff, limit, err := engine.ValidateTaskViewsEndedOfTenant(tenantID, endedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list ended tasks: %w", err)
	}
	ids, err := orEmpty(s.q.TaskViewsEndedOfTenant(ctx, s.rdb, dbsqlc.TaskViewsEndedOfTenantParams{
		TenantID: tenantID, EndedBefore: micros(cutoff), MaxTasks: int64(limit),
	}))
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s ended before %s: %w", tenantID, cutoff.Format(time.RFC3339Nano), s.closedOr(err))
	}
	return ids, nil
}

// TaskPrune implements eventstore.PruneStore. It runs on the writer
// connection, in one write transaction (so it queues with appends for as
// long as ctx allows): a look-up of the stream's last event, one UPDATE of
// its events (the one change the events_prune_only trigger allows) and one
// of its task_views row. It leaves the head cache alone: pruning changes
// no hash. It tells the feed cache, which may hold the payloads.
func (s *Store) TaskPrune(ctx context.Context, taskID string, at time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("prune a task: %w", eventstore.ErrClosed)
	}
	at, err := engine.ValidateTaskPrune(taskID, at)
	if err != nil {
		return 0, fmt.Errorf("prune a task: %w", err)
	}
	if err := s.lockWriter(ctx); err != nil {
		return 0, fmt.Errorf("prune task %s: %w", taskID, err)
	}
	pruned, err := s.pruneTask(ctx, taskID, at)
	s.unlockWriter()
	s.feedCache.Forget(taskID) // even after an error: the commit may have happened
	if err != nil {
		return 0, fmt.Errorf("prune task %s: %w", taskID, s.closedOr(err))
	}
	return pruned, nil
}

// pruneTask prunes a task in one write transaction. The caller holds the
// write slot.
func (s *Store) pruneTask(ctx context.Context, taskID string, at time.Time) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; a failed prune reports its own error

	last, err := s.q.StreamLastEvent(ctx, tx, taskID)
	found := true
	switch {
	case errors.Is(err, sql.ErrNoRows):
		found = false
	case err != nil:
		return 0, fmt.Errorf("read the last event: %w", err)
	}
	if err := engine.CheckPrunable(found, domain.StreamType(last.StreamType), domain.EventType(last.Type)); err != nil {
		return 0, err
	}
	// Up to the terminal event: an event appended after it (which the
	// domain forbids) would not be a finished task's.
	pruned, err := s.q.EventsPrune(ctx, tx, dbsqlc.EventsPruneParams{StreamID: taskID, LastSeq: last.Seq})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	if err := s.q.TaskViewsMarkPruned(ctx, tx, dbsqlc.TaskViewsMarkPrunedParams{PrunedAt: micros(at), TaskID: taskID}); err != nil {
		return 0, fmt.Errorf("mark the task view pruned: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return int(pruned), nil
}

// orEmpty returns a listing's rows, an empty slice for none: it takes
// the query's results as they come, and never returns a nil slice without
// an error.
func orEmpty[R any](rows []R, err error) ([]R, error) {
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []R{}
	}
	return rows, nil
}
