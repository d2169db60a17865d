package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
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
	since, err := engine.ValidateTaskWaitingMark(taskID, tenantID, since)
	if err != nil {
		return fmt.Errorf("mark a task waiting: %w", err)
	}
	err = s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.TaskWaitingMark(ctx, db, dbsqlc.TaskWaitingMarkParams{TaskID: taskID, TenantID: tenantID, Since: since.UnixMicro()})
	})
	if err != nil {
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
	if err := s.write(ctx, func(db dbsqlc.DBTX) error { return s.q.TaskWaitingUnmark(ctx, db, taskID) }); err != nil {
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
	limit, err := engine.ValidateTaskWaitingList(tenantID, limit)
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
	var rows []dbsqlc.TaskWaiting
	var err error
	if tenantID == "" {
		rows, err = s.q.TaskWaitingList(ctx, s.rdb, int64(limit))
	} else {
		rows, err = s.q.TaskWaitingListByTenant(ctx, s.rdb, dbsqlc.TaskWaitingListByTenantParams{TenantID: tenantID, MaxRows: int64(limit)})
	}
	return waitingTasks(rows, err, func(r dbsqlc.TaskWaiting) (string, string, int64) { return r.TaskID, r.TenantID, r.Since })
}

// TaskViewsStaleQueued implements projections.StaleQueuedStore. It runs on the
// read-only pool and never waits for the writer: one query, a range of
// the partial index task_views_queued_idx (queued rows only) in its order,
// with a primary-key probe of task_leases and of task_waiting per row.
func (s *Store) TaskViewsStaleQueued(ctx context.Context, queuedBefore time.Time, limit int) ([]eventstore.WaitingTask, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list stale queued tasks: %w", eventstore.ErrClosed)
	}
	cutoff, limit, err := engine.ValidateTaskViewsStaleQueued(queuedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list stale queued tasks: %w", err)
	}
	rows, err := s.q.TaskViewsStaleQueued(ctx, s.rdb, dbsqlc.TaskViewsStaleQueuedParams{QueuedBefore: micros(cutoff), MaxRows: int64(limit)})
	out, err := waitingTasks(rows, err, func(r dbsqlc.TaskViewsStaleQueuedRow) (string, string, int64) {
		return r.TaskID, r.TenantID, r.QueuedAt.Int64 // queued rows have a queued_at
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks queued before %s: %w", cutoff.Format(time.RFC3339Nano), s.closedOr(err))
	}
	return out, nil
}

// waitingTasks maps the rows of a listing of waiting tasks, each (task id,
// tenant id, unix microseconds) as fields gives them; it takes the query's
// results as they come, and never returns a nil slice without an error.
func waitingTasks[R any](rows []R, err error, fields func(R) (taskID, tenantID string, micros int64)) ([]eventstore.WaitingTask, error) {
	if err != nil {
		return nil, err
	}
	out := make([]eventstore.WaitingTask, len(rows))
	for i, r := range rows {
		taskID, tenantID, micros := fields(r)
		out[i] = eventstore.WaitingTask{TaskID: taskID, TenantID: tenantID, Since: time.UnixMicro(micros).UTC()}
	}
	return out, nil
}
