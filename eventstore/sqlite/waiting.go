package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/projections"
)

var (
	_ eventstore.WaitingStore      = (*Store)(nil)
	_ projections.StaleQueuedStore = (*Store)(nil)
)

// TaskWaitingMark implements eventstore.WaitingStore: one statement on the
// writer connection, so it queues with appends for the writer for as long
// as ctx allows. Times are stored as unix microseconds.
func (s *Store) TaskWaitingMark(ctx context.Context, taskID, tenantID string, since time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("mark a task waiting: %w", eventstore.ErrClosed)
	}
	since, err := engine.ValidateMarkWaiting(taskID, tenantID, since)
	if err != nil {
		return fmt.Errorf("mark a task waiting: %w", err)
	}
	if _, err := s.exec(ctx, queryMarkWaiting, taskID, tenantID, since.UnixMicro()); err != nil {
		return fmt.Errorf("mark task %s waiting: %w", taskID, err)
	}
	return nil
}

// TaskWaitingUnmark implements eventstore.WaitingStore: one statement on the
// writer connection.
func (s *Store) TaskWaitingUnmark(ctx context.Context, taskID string) error {
	if s.closed.Load() {
		return fmt.Errorf("unmark a waiting task: %w", eventstore.ErrClosed)
	}
	if err := domain.ValidateIdentifier("task_id", taskID); err != nil {
		return fmt.Errorf("unmark a waiting task: %w", err)
	}
	if _, err := s.exec(ctx, queryUnmarkWaiting, taskID); err != nil {
		return fmt.Errorf("unmark waiting task %s: %w", taskID, err)
	}
	return nil
}

// TaskWaitingList implements eventstore.WaitingStore. It runs on the
// read-only pool and never waits for the writer.
func (s *Store) TaskWaitingList(ctx context.Context, tenantID string, limit int) ([]eventstore.WaitingTask, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list waiting tasks: %w", eventstore.ErrClosed)
	}
	limit, err := engine.ValidateWaitingTasks(tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list waiting tasks: %w", err)
	}
	out, err := s.waitingTasks(ctx, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list waiting tasks of tenant %q: %w", tenantID, s.closedOr(err))
	}
	return out, nil
}

func (s *Store) waitingTasks(ctx context.Context, tenantID string, limit int) ([]eventstore.WaitingTask, error) {
	if tenantID == "" {
		return collectWaiting(s.r.waitingTasks.QueryContext(ctx, limit))
	}
	return collectWaiting(s.r.waitingTasksOfTenant.QueryContext(ctx, tenantID, limit))
}

// TaskViewsStaleQueued implements projections.StaleQueuedStore. It runs on the
// read-only pool and never waits for the writer: one query, a range of
// the partial index task_views_queued_idx (queued rows only) in its order,
// with a primary-key probe of task_leases and of task_waiting per row.
func (s *Store) TaskViewsStaleQueued(ctx context.Context, queuedBefore time.Time, limit int) ([]eventstore.WaitingTask, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list stale queued tasks: %w", eventstore.ErrClosed)
	}
	cutoff, limit, err := engine.ValidateStaleQueuedTasks(queuedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list stale queued tasks: %w", err)
	}
	out, err := collectWaiting(s.r.staleQueuedTasks.QueryContext(ctx, cutoff.UnixMicro(), limit))
	if err != nil {
		return nil, fmt.Errorf("list tasks queued before %s: %w", cutoff.Format(time.RFC3339Nano), s.closedOr(err))
	}
	return out, nil
}

// collectWaiting reads and closes rows of (task_id, tenant_id, unix
// microseconds); it takes QueryContext's results as they come, and never
// returns a nil slice without an error.
func collectWaiting(rows *sql.Rows, err error) ([]eventstore.WaitingTask, error) {
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := []eventstore.WaitingTask{}
	for rows.Next() {
		var (
			w      eventstore.WaitingTask
			micros int64
		)
		if err := rows.Scan(&w.TaskID, &w.TenantID, &micros); err != nil {
			return nil, err
		}
		w.Since = time.UnixMicro(micros).UTC()
		out = append(out, w)
	}
	return out, rows.Err()
}
