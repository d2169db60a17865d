package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var (
	_ eventstore.PruneStore      = (*Store)(nil)
	_ projections.EndedTaskStore = (*Store)(nil)
)

// TaskViewsTenantsWithEnded implements projections.EndedTaskStore: one query, a
// loose index scan of task_views_prunable_idx (two probes per tenant with
// tasks to prune, whatever their number); ids sort in byte order whatever
// the database's collation.
func (s *Store) TaskViewsTenantsWithEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	cutoff, limit, err := engine.ValidateTaskViewsTenantsWithEnded(endedBefore, afterTenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list tenants with ended tasks: %w", err)
	}
	ids, err := s.q.TaskViewsTenantsWithEnded(ctx, s.pool, dbsqlc.TaskViewsTenantsWithEndedParams{
		EndedBefore: cutoff, AfterTenantID: afterTenantID, MaxTenants: int32(limit), // limit <= MaxRetentionListLimit
	})
	if err != nil {
		return nil, fmt.Errorf("list tenants with tasks ended before %s: %w", cutoff.Format(time.RFC3339Nano), err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// TaskViewsEndedOfTenant implements projections.EndedTaskStore: one index range of
// task_views_prunable_idx, in the index's order.
func (s *Store) TaskViewsEndedOfTenant(ctx context.Context, tenantID string, endedBefore time.Time, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	cutoff, limit, err := engine.ValidateTaskViewsEndedOfTenant(tenantID, endedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list ended tasks: %w", err)
	}
	ids, err := s.q.TaskViewsEndedOfTenant(ctx, s.pool, dbsqlc.TaskViewsEndedOfTenantParams{
		TenantID: tenantID, EndedBefore: cutoff, MaxTasks: int32(limit), // limit <= MaxRetentionListLimit
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s ended before %s: %w", tenantID, cutoff.Format(time.RFC3339Nano), err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// TaskPrune implements eventstore.PruneStore, in one transaction: a
// look-up of the stream's last event, one UPDATE of its events and one of
// its task_views row. It never touches the head cache: pruning changes no
// hash. It tells the feed cache, which may hold the payloads.
func (s *Store) TaskPrune(ctx context.Context, taskID string, at time.Time) (int, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	at, err := engine.ValidateTaskPrune(taskID, at)
	if err != nil {
		return 0, fmt.Errorf("prune a task: %w", err)
	}
	var pruned int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		last, err := s.q.StreamLastEvent(ctx, tx, taskID)
		found := true
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			found = false
		case err != nil:
			return fmt.Errorf("read the last event: %w", err)
		}
		if err := engine.CheckPrunable(found, domain.StreamType(last.StreamType), domain.EventType(last.Type)); err != nil {
			return err
		}
		// Up to the terminal event: an event appended after it (which
		// the domain forbids) would not be a finished task's.
		if pruned, err = s.q.EventsPrune(ctx, tx, dbsqlc.EventsPruneParams{StreamID: taskID, LastSeq: last.Seq}); err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		if err := s.q.TaskViewsMarkPruned(ctx, tx, dbsqlc.TaskViewsMarkPrunedParams{TaskID: taskID, PrunedAt: at}); err != nil {
			return fmt.Errorf("mark the task view pruned: %w", err)
		}
		return nil
	})
	s.feedCache.Forget(taskID) // even after an error: the commit may have happened
	if err != nil {
		if s.closed.Load() {
			return 0, eventstore.ErrClosed
		}
		return 0, fmt.Errorf("prune task %s: %w", taskID, err)
	}
	return int(pruned), nil
}
