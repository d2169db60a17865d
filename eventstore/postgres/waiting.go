package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var (
	_ eventstore.WaitingStore      = (*Store)(nil)
	_ projections.StaleQueuedStore = (*Store)(nil)
)

// TaskWaitingMark implements eventstore.WaitingStore: one INSERT … ON CONFLICT
// DO NOTHING, so a task already marked keeps its first since.
func (s *Store) TaskWaitingMark(ctx context.Context, taskID, tenantID string, since time.Time) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	since, err := engine.ValidateTaskWaitingMark(taskID, tenantID, since)
	if err != nil {
		return fmt.Errorf("mark a task waiting: %w", err)
	}
	err = s.q.TaskWaitingMark(ctx, s.pool, dbsqlc.TaskWaitingMarkParams{TaskID: taskID, TenantID: tenantID, Since: since})
	if err != nil {
		return fmt.Errorf("mark task %s waiting: %w", taskID, err)
	}
	return nil
}

// TaskWaitingUnmark implements eventstore.WaitingStore: one DELETE.
func (s *Store) TaskWaitingUnmark(ctx context.Context, taskID string) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := domain.ValidateIdentifier("task_id", taskID); err != nil {
		return fmt.Errorf("unmark a waiting task: %w", err)
	}
	if err := s.q.TaskWaitingUnmark(ctx, s.pool, taskID); err != nil {
		return fmt.Errorf("unmark waiting task %s: %w", taskID, err)
	}
	return nil
}

// TaskWaitingList implements eventstore.WaitingStore: one index scan, of
// task_waiting_since_idx for every tenant or of
// task_waiting_tenant_since_idx for one.
func (s *Store) TaskWaitingList(ctx context.Context, tenantID string, limit int) ([]eventstore.WaitingTask, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	limit, err := engine.ValidateTaskWaitingList(tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list waiting tasks: %w", err)
	}
	var rows []dbsqlc.TaskWaiting
	if tenantID == "" {
		rows, err = s.q.TaskWaitingList(ctx, s.pool, int32(limit)) // limit <= MaxWaitingTasksLimit
	} else {
		rows, err = s.q.TaskWaitingListByTenant(ctx, s.pool, dbsqlc.TaskWaitingListByTenantParams{TenantID: tenantID, MaxTasks: int32(limit)})
	}
	if err != nil {
		return nil, fmt.Errorf("list waiting tasks of tenant %q: %w", tenantID, err)
	}
	out := make([]eventstore.WaitingTask, len(rows))
	for i, r := range rows {
		out[i] = eventstore.WaitingTask{TaskID: r.TaskID, TenantID: r.TenantID, Since: r.Since.UTC()}
	}
	return out, nil
}

// TaskViewsStaleQueued implements projections.StaleQueuedStore: one query, a range
// of the partial index task_views_queued_idx (queued rows only) in its
// order, with a primary-key probe of task_leases and of task_waiting per
// row; ids sort in byte order whatever the database's collation.
func (s *Store) TaskViewsStaleQueued(ctx context.Context, queuedBefore time.Time, limit int) ([]eventstore.WaitingTask, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	cutoff, limit, err := engine.ValidateTaskViewsStaleQueued(queuedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list stale queued tasks: %w", err)
	}
	rows, err := s.q.TaskViewsStaleQueued(ctx, s.pool, dbsqlc.TaskViewsStaleQueuedParams{
		QueuedBefore: cutoff, MaxTasks: int32(limit), // limit <= MaxWaitingTasksLimit
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks queued before %s: %w", cutoff.Format(time.RFC3339Nano), err)
	}
	out := make([]eventstore.WaitingTask, len(rows))
	for i, r := range rows {
		out[i] = eventstore.WaitingTask{TaskID: r.TaskID, TenantID: r.TenantID, Since: r.QueuedAt.UTC()}
	}
	return out, nil
}
