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
	cutoff, limit, err := engine.ValidateTenantsWithEndedTasks(endedBefore, afterTenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list tenants with ended tasks: %w", err)
	}
	ids, err := collectIDs(s.r.tenantsWithEndedTasks.QueryContext(ctx, afterTenantID, cutoff.UnixMicro(), limit))
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
	cutoff, limit, err := engine.ValidateEndedTasks(tenantID, endedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list ended tasks: %w", err)
	}
	ids, err := collectIDs(s.r.endedTasks.QueryContext(ctx, tenantID, cutoff.UnixMicro(), limit))
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
// no hash.
func (s *Store) TaskPrune(ctx context.Context, taskID string, at time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("prune a task: %w", eventstore.ErrClosed)
	}
	at, err := engine.ValidatePruneTask(taskID, at)
	if err != nil {
		return 0, fmt.Errorf("prune a task: %w", err)
	}
	if err := s.lockWriter(ctx); err != nil {
		return 0, fmt.Errorf("prune task %s: %w", taskID, err)
	}
	pruned, err := s.pruneTask(ctx, taskID, at)
	s.unlockWriter()
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

	var (
		seq        int64
		streamType string
		lastType   string
	)
	found := true
	err = tx.QueryRowContext(ctx, queryStreamLastEvent, taskID).Scan(&seq, &streamType, &lastType)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		found = false
	case err != nil:
		return 0, fmt.Errorf("read the last event: %w", err)
	}
	if err := engine.CheckPrunable(found, domain.StreamType(streamType), domain.EventType(lastType)); err != nil {
		return 0, err
	}
	// Up to the terminal event: an event appended after it (which the
	// domain forbids) would not be a finished task's.
	res, err := tx.ExecContext(ctx, queryPruneEvents, taskID, seq)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	pruned, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	if _, err := tx.ExecContext(ctx, queryMarkTaskViewPruned, at.UnixMicro(), taskID); err != nil {
		return 0, fmt.Errorf("mark the task view pruned: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return int(pruned), nil
}

// collectIDs reads and closes rows of one text column; it takes
// QueryContext's results as they come, and never returns a nil slice
// without an error.
func collectIDs(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
