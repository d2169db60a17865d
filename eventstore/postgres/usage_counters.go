package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ projections.UsageStore = (*Store)(nil)

// UsageCounters returns the projection that keeps the usage counters read
// model (UsageCountersRead reads it): run it with a projections.Runner (one
// per deployment, elected; several are safe).
func (s *Store) UsageCounters() projections.Projection { return usageCounters{s} }

type usageCounters struct{ s *Store }

func (p usageCounters) Name() string { return projections.UsageCountersName }

func (p usageCounters) Checkpoint(ctx context.Context) (int64, error) {
	return p.s.TaskViewsCheckpoint(ctx, projections.UsageCountersName)
}

// Apply folds events into the counters in one transaction with the
// checkpoint, locked as TaskViewsApply locks its own.
func (p usageCounters) Apply(ctx context.Context, from int64, events []domain.Event) error {
	s := p.s
	return s.applyProjection(ctx, projections.UsageCountersName, from, events, func(tx pgx.Tx) error {
		runs := make(map[string]projections.UsageRun)
		if ids := projections.UsageRunIDs(events); len(ids) > 0 {
			rows, err := s.q.UsageOpenRunsGet(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, r := range rows {
				runs[r.TaskID] = projections.UsageRun{TaskID: r.TaskID, TenantID: r.TenantID, StartedAt: r.StartedAt.UTC()}
			}
		}
		changes, err := projections.FoldUsage(runs, events)
		if err != nil {
			return err
		}
		return p.write(ctx, tx, changes)
	})
}

// write stores a batch's changes in tx.
func (p usageCounters) write(ctx context.Context, tx pgx.Tx, c projections.UsageChanges) error {
	q := p.s.q
	for _, d := range c.Days {
		err := q.UsageCountersAdd(ctx, tx, dbsqlc.UsageCountersAddParams{
			TenantID: d.TenantID, Day: d.Day, TaskRunMs: d.TaskRunMS, TasksStarted: d.TasksStarted, StreamsOpened: d.StreamsOpened,
			BytesStreamed: d.BytesStreamed, McpCalls: d.MCPCalls, OutputBytes: d.OutputBytes,
		})
		if err != nil {
			return fmt.Errorf("add usage of tenant %s: %w", d.TenantID, err)
		}
	}
	for _, r := range c.Started {
		if err := q.UsageOpenRunPut(ctx, tx, dbsqlc.UsageOpenRunPutParams{TaskID: r.TaskID, TenantID: r.TenantID, StartedAt: r.StartedAt}); err != nil {
			return fmt.Errorf("store the run of task %s: %w", r.TaskID, err)
		}
	}
	for _, id := range c.Ended {
		if err := q.UsageOpenRunDelete(ctx, tx, id); err != nil {
			return fmt.Errorf("delete the run of task %s: %w", id, err)
		}
	}
	return nil
}

// Reset empties the read model and its checkpoint, for a rebuild.
func (p usageCounters) Reset(ctx context.Context) error {
	s := p.s
	return s.resetProjection(ctx, projections.UsageCountersName, func(tx pgx.Tx) error {
		if err := s.q.UsageCountersDeleteAll(ctx, tx); err != nil {
			return err
		}
		return s.q.UsageOpenRunsDeleteAll(ctx, tx)
	})
}

// UsageCountersRead implements projections.UsageStore.
func (s *Store) UsageCountersRead(ctx context.Context, tenantID string, first, last time.Time) ([]projections.UsageDay, error) {
	if err := projections.ValidateUsageRange(tenantID, first, last); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.UsageCountersRange(ctx, s.pool, dbsqlc.UsageCountersRangeParams{TenantID: tenantID, FirstDay: first, LastDay: last})
	if err != nil {
		return nil, fmt.Errorf("read the usage of tenant %s: %w", tenantID, err)
	}
	return usageDays(rows), nil
}

// UsageCountersOfDay implements projections.UsageStore.
func (s *Store) UsageCountersOfDay(ctx context.Context, day time.Time, afterTenantID string, limit int) ([]projections.UsageDay, error) {
	if err := projections.ValidateUsageDay(day, limit); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.UsageCountersOfDay(ctx, s.pool, dbsqlc.UsageCountersOfDayParams{Day: day, AfterTenantID: afterTenantID, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("read the usage of %s: %w", day.Format(time.DateOnly), err)
	}
	return usageDays(rows), nil
}

// usageDays maps rows of usage_counters to UsageDays.
func usageDays(rows []dbsqlc.UsageCounter) []projections.UsageDay {
	out := make([]projections.UsageDay, len(rows))
	for i, r := range rows {
		out[i] = projections.UsageDay{TenantID: r.TenantID, Day: projections.DayOf(r.Day), UsageCounts: projections.UsageCounts{
			TaskRunMS: r.TaskRunMs, TasksStarted: r.TasksStarted, StreamsOpened: r.StreamsOpened, BytesStreamed: r.BytesStreamed,
			MCPCalls: r.McpCalls, OutputBytes: r.OutputBytes,
		}}
	}
	return out
}
