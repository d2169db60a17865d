package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ projections.TaskViewStore = (*Store)(nil)

// TaskViewsApply implements projections.TaskViewStore. It runs on the writer
// connection, so appends wait while it applies a batch.
func (s *Store) TaskViewsApply(ctx context.Context, name string, from int64, events []domain.Event) error {
	return s.applyProjection(ctx, name, from, events, func(tx *sql.Tx) error {
		current := make(map[string]projections.TaskView)
		if ids := projections.TaskViewIDs(events); len(ids) > 0 {
			if err := s.readTaskViews(ctx, tx, ids, current); err != nil {
				return err
			}
		}
		changed, err := projections.FoldTaskViews(current, events)
		if err != nil {
			return err
		}
		// pruned_at is not among the columns: a new row has none, and an
		// updated row keeps the retention job's mark.
		for _, v := range changed {
			err := s.q.TaskViewsUpsert(ctx, tx, dbsqlc.TaskViewsUpsertParams{
				TaskID: v.TaskID, TenantID: v.TenantID, Name: v.Name, Adapter: v.Adapter, State: string(v.State),
				Attempt: int64(v.Attempt), CreatedAt: v.CreatedAt.UnixMicro(), StartedAt: optionalMicros(v.StartedAt),
				EndedAt: optionalMicros(v.EndedAt), LastSeq: v.LastSeq, LastPosition: v.LastPosition, QueuedAt: optionalMicros(v.QueuedAt),
			})
			if err != nil {
				return fmt.Errorf("upsert task view %s: %w", v.TaskID, err)
			}
		}
		return nil
	})
}

// applyProjection applies a batch of events at feed position from to the
// read model of checkpoint name: in one transaction on the writer
// connection, fold (which reads and writes the read model) and the
// checkpoint's move. A checkpoint elsewhere than from is a
// *projections.CheckpointError.
func (s *Store) applyProjection(ctx context.Context, name string, from int64, events []domain.Event, fold func(tx *sql.Tx) error) error {
	if err := projections.CheckBatch(from, events); err != nil {
		return err
	}
	err := s.inWriterTx(ctx, func(tx *sql.Tx) error {
		at, err := s.q.ProjectionCheckpointGet(ctx, tx, name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if at != from {
			return &projections.CheckpointError{Name: name, Expected: from, Actual: at}
		}
		if err := fold(tx); err != nil {
			return err
		}
		if err := s.q.CheckpointSave(ctx, tx, dbsqlc.CheckpointSaveParams{Name: name, NextPosition: from + int64(len(events))}); err != nil {
			return fmt.Errorf("move checkpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply %d events at %d to %s: %w", len(events), from, name, err)
	}
	return nil
}

// resetProjection empties a read model (clear) and its checkpoint name, in
// one transaction on the writer connection, for a rebuild.
func (s *Store) resetProjection(ctx context.Context, name string, clear func(tx *sql.Tx) error) error {
	err := s.inWriterTx(ctx, func(tx *sql.Tx) error {
		if err := clear(tx); err != nil {
			return err
		}
		return s.q.ProjectionCheckpointReset(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("reset %s: %w", name, err)
	}
	return nil
}

// inWriterTx runs fn in one transaction on the writer connection, holding
// the write slot (as write does), and commits when fn succeeds.
func (s *Store) inWriterTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.write(ctx, func(dbsqlc.DBTX) error {
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// readTaskViews reads the rows of ids into out, in chunks that stay below
// SQLite's limit on bound parameters.
func (s *Store) readTaskViews(ctx context.Context, tx *sql.Tx, ids []string, out map[string]projections.TaskView) error {
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		rows, err := s.q.TaskViewsGet(ctx, tx, ids[:n])
		if err != nil {
			return fmt.Errorf("read task views: %w", err)
		}
		ids = ids[n:]
		for _, r := range rows {
			out[r.TaskID] = taskView(r)
		}
	}
	return nil
}

// TaskViewsCheckpoint implements projections.TaskViewStore.
func (s *Store) TaskViewsCheckpoint(ctx context.Context, name string) (int64, error) {
	at, err := s.q.ProjectionCheckpointGet(ctx, s.rdb, name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", name, s.closedOr(err))
	}
	return at, nil
}

// TaskViewsReset implements projections.TaskViewStore.
func (s *Store) TaskViewsReset(ctx context.Context, name string) error {
	return s.resetProjection(ctx, name, func(tx *sql.Tx) error { return s.q.TaskViewsDeleteAll(ctx, tx) })
}

// TaskViewsList implements projections.TaskViewStore. It runs on the
// read-only pool: one range of one of the (tenant_id[, state], created_at
// DESC, task_id DESC) indexes, in its order.
func (s *Store) TaskViewsList(ctx context.Context, q projections.TaskQuery) ([]projections.TaskView, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	// The first page starts after every task, and a list without a lower
	// bound ends before every task: no time is stored as the largest or
	// the smallest number of microseconds.
	p := dbsqlc.TaskViewsListParams{TenantID: q.TenantID, AfterCreatedAt: math.MaxInt64, CreatedAfter: math.MinInt64, MaxRows: int64(q.Limit)}
	if after, ok := q.Start(); ok {
		p.AfterCreatedAt, p.AfterTaskID = after.CreatedAt.UnixMicro(), after.TaskID
	}
	if !q.CreatedAfter.IsZero() {
		p.CreatedAfter = q.CreatedAfter.UnixMicro()
	}
	var rows []dbsqlc.TaskView
	var err error
	if q.State == "" {
		rows, err = s.q.TaskViewsList(ctx, s.rdb, p)
	} else {
		rows, err = s.q.TaskViewsListByState(ctx, s.rdb, dbsqlc.TaskViewsListByStateParams{
			TenantID: p.TenantID, State: string(q.State), AfterCreatedAt: p.AfterCreatedAt, AfterTaskID: p.AfterTaskID, CreatedAfter: p.CreatedAfter, MaxRows: p.MaxRows,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("list tasks of tenant: %w", s.closedOr(err))
	}
	views := make([]projections.TaskView, len(rows))
	for i, r := range rows {
		views[i] = taskView(r)
	}
	return views, nil
}

// taskView maps a row of task_views (times in unix microseconds, NULL
// for none) to a TaskView.
func taskView(r dbsqlc.TaskView) projections.TaskView {
	return projections.TaskView{
		TaskID: r.TaskID, TenantID: r.TenantID, Name: r.Name, Adapter: r.Adapter, State: domain.TaskState(r.State),
		Attempt: int(r.Attempt), CreatedAt: time.UnixMicro(r.CreatedAt).UTC(), QueuedAt: optionalTime(r.QueuedAt),
		StartedAt: optionalTime(r.StartedAt), EndedAt: optionalTime(r.EndedAt), LastSeq: r.LastSeq, LastPosition: r.LastPosition,
	}
}

// micros is t in unix microseconds.
func micros(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// optionalMicros is t in unix microseconds, or NULL for the zero time.
func optionalMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return micros(t)
}

// optionalTime is the time of unix microseconds, or the zero time for NULL.
func optionalTime(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return time.UnixMicro(us.Int64).UTC()
}

// TaskViewsCount returns the task list read model summed over every
// tenant (a scan of task_views, and the first entry of the queued index),
// for the operators' metrics. It runs on the read-only pool.
func (s *Store) TaskViewsCount(ctx context.Context) (projections.TaskCounts, error) {
	rows, err := s.q.TaskViewsCountByState(ctx, s.rdb)
	if err != nil {
		return projections.TaskCounts{}, fmt.Errorf("count tasks by state: %w", s.closedOr(err))
	}
	oldest, err := s.q.TaskViewsOldestQueued(ctx, s.rdb)
	if err != nil {
		return projections.TaskCounts{}, fmt.Errorf("read the oldest queued task: %w", s.closedOr(err))
	}
	c := projections.TaskCounts{ByState: make(map[domain.TaskState]int64, len(rows))}
	for _, r := range rows {
		c.ByState[domain.TaskState(r.State)] = r.Tasks
	}
	if len(oldest) > 0 {
		c.OldestQueuedAt = optionalTime(oldest[0])
	}
	return c, nil
}
