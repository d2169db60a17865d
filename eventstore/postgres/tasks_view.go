package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ projections.TaskViewStore = (*Store)(nil)

// TaskViewsApply implements projections.TaskViewStore. The checkpoint row
// is locked (FOR UPDATE) for the transaction, so concurrent applies of one
// checkpoint serialize and all but one fail with a *projections.CheckpointError.
func (s *Store) TaskViewsApply(ctx context.Context, name string, from int64, events []domain.Event) error {
	return s.applyProjection(ctx, name, from, events, func(tx pgx.Tx) error {
		current := make(map[string]projections.TaskView)
		if ids := projections.TaskViewIDs(events); len(ids) > 0 {
			rows, err := s.q.TaskViewsGet(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, row := range rows {
				current[row.TaskID] = taskViewFromRow(row)
			}
		}
		changed, err := projections.FoldTaskViews(current, events)
		if err != nil || len(changed) == 0 {
			return err
		}
		return s.q.TaskViewsUpsert(ctx, tx, taskViewsParams(changed))
	})
}

// applyProjection applies a batch of events at feed position from to the
// read model of checkpoint name: in one transaction, fold (which reads and
// writes the read model) and the checkpoint's move. The checkpoint row is
// locked (FOR UPDATE) for the transaction, so concurrent applies of one
// checkpoint serialize and all but one fail with a
// *projections.CheckpointError.
func (s *Store) applyProjection(ctx context.Context, name string, from int64, events []domain.Event, fold func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := projections.CheckBatch(from, events); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.ProjectionCheckpointEnsure(ctx, tx, name); err != nil {
			return err
		}
		at, err := s.q.ProjectionCheckpointLock(ctx, tx, name)
		if err != nil {
			return err
		}
		if at != from {
			return &projections.CheckpointError{Name: name, Expected: from, Actual: at}
		}
		if err := fold(tx); err != nil {
			return err
		}
		return s.q.ProjectionCheckpointSet(ctx, tx, dbsqlc.ProjectionCheckpointSetParams{Name: name, NextPosition: from + int64(len(events))})
	})
	if err != nil {
		return fmt.Errorf("apply %d events at %d to %s: %w", len(events), from, name, err)
	}
	return nil
}

// TaskViewsCheckpoint implements projections.TaskViewStore.
func (s *Store) TaskViewsCheckpoint(ctx context.Context, name string) (int64, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	pos, err := s.q.ProjectionCheckpointGet(ctx, s.pool, name)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return pos, nil
}

// TaskViewsReset implements projections.TaskViewStore.
func (s *Store) TaskViewsReset(ctx context.Context, name string) error {
	return s.resetProjection(ctx, name, func(tx pgx.Tx) error { return s.q.TaskViewsDeleteAll(ctx, tx) })
}

// resetProjection empties a read model (clear) and its checkpoint name, in
// one transaction, for a rebuild.
func (s *Store) resetProjection(ctx context.Context, name string, clear func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Locks the checkpoint first, as an apply does, so that the two
		// serialize on the same row.
		if err := s.q.ProjectionCheckpointReset(ctx, tx, name); err != nil {
			return err
		}
		return clear(tx)
	})
	if err != nil {
		return fmt.Errorf("reset %s: %w", name, err)
	}
	return nil
}

// TaskViewsList implements projections.TaskViewStore.
func (s *Store) TaskViewsList(ctx context.Context, q projections.TaskQuery) ([]projections.TaskView, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	// The first page starts after every task: no created_at reaches the
	// year 9999. Without a lower bound, the list ends before every task:
	// none was created in the year 1.
	after, ok := q.Start()
	if !ok {
		after = projections.TaskCursor{CreatedAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}
	}
	p := dbsqlc.TaskViewsListParams{TenantID: q.TenantID, AfterCreatedAt: after.CreatedAt, AfterTaskID: after.TaskID,
		CreatedAfter: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), MaxRows: int32(q.Limit)}
	if !q.CreatedAfter.IsZero() {
		p.CreatedAfter = q.CreatedAfter
	}
	var rows []dbsqlc.TaskView
	var err error
	if q.State == "" {
		rows, err = s.q.TaskViewsList(ctx, s.pool, p)
	} else {
		rows, err = s.q.TaskViewsListByState(ctx, s.pool, dbsqlc.TaskViewsListByStateParams{
			TenantID: p.TenantID, State: string(q.State), AfterCreatedAt: p.AfterCreatedAt, AfterTaskID: p.AfterTaskID, CreatedAfter: p.CreatedAfter, MaxRows: p.MaxRows,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("list tasks of tenant: %w", err)
	}
	out := make([]projections.TaskView, 0, len(rows))
	for _, row := range rows {
		out = append(out, taskViewFromRow(row))
	}
	return out, nil
}

func taskViewFromRow(r dbsqlc.TaskView) projections.TaskView {
	return projections.TaskView{
		TaskID:       r.TaskID,
		TenantID:     r.TenantID,
		Name:         r.Name,
		Adapter:      r.Adapter,
		State:        domain.TaskState(r.State),
		Attempt:      int(r.Attempt),
		CreatedAt:    r.CreatedAt.UTC(),
		QueuedAt:     fromTimestamptz(r.QueuedAt),
		StartedAt:    fromTimestamptz(r.StartedAt),
		EndedAt:      fromTimestamptz(r.EndedAt),
		LastSeq:      r.LastSeq,
		LastPosition: r.LastPosition,
	}
}

// taskViewsParams lays rows out as the columns of one upsert.
func taskViewsParams(rows []projections.TaskView) dbsqlc.TaskViewsUpsertParams {
	n := len(rows)
	p := dbsqlc.TaskViewsUpsertParams{
		TaskIds: make([]string, n), TenantIds: make([]string, n), Names: make([]string, n),
		Adapters: make([]string, n), States: make([]string, n), Attempts: make([]int32, n),
		CreatedAts: make([]time.Time, n), HasStarted: make([]bool, n), StartedAts: make([]time.Time, n),
		HasEnded: make([]bool, n), EndedAts: make([]time.Time, n), LastSeqs: make([]int64, n), LastPositions: make([]int64, n),
		HasQueued: make([]bool, n), QueuedAts: make([]time.Time, n),
	}
	for i, v := range rows {
		p.TaskIds[i], p.TenantIds[i], p.Names[i], p.Adapters[i] = v.TaskID, v.TenantID, v.Name, v.Adapter
		p.States[i], p.Attempts[i], p.CreatedAts[i] = string(v.State), int32(v.Attempt), v.CreatedAt
		p.HasStarted[i], p.StartedAts[i] = !v.StartedAt.IsZero(), v.StartedAt
		p.HasEnded[i], p.EndedAts[i] = !v.EndedAt.IsZero(), v.EndedAt
		p.LastSeqs[i], p.LastPositions[i] = v.LastSeq, v.LastPosition
		p.HasQueued[i], p.QueuedAts[i] = !v.QueuedAt.IsZero(), v.QueuedAt
	}
	return p
}

func fromTimestamptz(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// TaskViewsCount returns the task list read model summed over every
// tenant (the per-state counts that task_views' triggers keep, and the
// first entry of the queued index), for the operators' metrics.
func (s *Store) TaskViewsCount(ctx context.Context) (projections.TaskCounts, error) {
	if s.closed.Load() {
		return projections.TaskCounts{}, eventstore.ErrClosed
	}
	rows, err := s.q.TaskViewsCountByState(ctx, s.pool)
	if err != nil {
		return projections.TaskCounts{}, fmt.Errorf("count tasks by state: %w", err)
	}
	oldest, err := s.q.TaskViewsOldestQueued(ctx, s.pool)
	if err != nil {
		return projections.TaskCounts{}, fmt.Errorf("read the oldest queued task: %w", err)
	}
	c := projections.TaskCounts{ByState: make(map[domain.TaskState]int64, len(rows))}
	for _, r := range rows {
		c.ByState[domain.TaskState(r.State)] = r.Tasks
	}
	if len(oldest) > 0 {
		c.OldestQueuedAt = fromTimestamptz(oldest[0])
	}
	return c, nil
}
