package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// MarkWaiting implements eventstore.WaitingStore: one statement on the
// writer connection, so it queues with appends for the writer for as long
// as ctx allows. Times are stored as unix microseconds.
func (s *Store) MarkWaiting(ctx context.Context, taskID, tenantID string, since time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("mark a task waiting: %w", eventstore.ErrClosed)
	}
	since, err := eventstore.ValidateMarkWaiting(taskID, tenantID, since)
	if err != nil {
		return fmt.Errorf("mark a task waiting: %w", err)
	}
	if _, err := s.exec(ctx, queryMarkWaiting, taskID, tenantID, since.UnixMicro()); err != nil {
		return fmt.Errorf("mark task %s waiting: %w", taskID, err)
	}
	return nil
}

// UnmarkWaiting implements eventstore.WaitingStore: one statement on the
// writer connection.
func (s *Store) UnmarkWaiting(ctx context.Context, taskID string) error {
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

// WaitingTasks implements eventstore.WaitingStore. It runs on the
// read-only pool and never waits for the writer.
func (s *Store) WaitingTasks(ctx context.Context, tenantID string, limit int) ([]eventstore.WaitingTask, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list waiting tasks: %w", eventstore.ErrClosed)
	}
	limit, err := eventstore.ValidateWaitingTasks(tenantID, limit)
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
	var (
		rows *sql.Rows
		err  error
	)
	if tenantID == "" {
		rows, err = s.r.waitingTasks.QueryContext(ctx, limit)
	} else {
		rows, err = s.r.waitingTasksOfTenant.QueryContext(ctx, tenantID, limit)
	}
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
