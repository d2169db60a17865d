package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ projections.UsageStore = (*Store)(nil)

// UsageCounters returns the projection that keeps the usage counters read
// model (UsageCountersRead reads it): run it with a projections.Runner.
func (s *Store) UsageCounters() projections.Projection { return usageCounters{s} }

type usageCounters struct{ s *Store }

func (p usageCounters) Name() string { return projections.UsageCountersName }

func (p usageCounters) Checkpoint(ctx context.Context) (int64, error) {
	return p.s.TaskViewsCheckpoint(ctx, projections.UsageCountersName)
}

// Apply folds events into the counters in one transaction with the
// checkpoint, on the writer connection.
func (p usageCounters) Apply(ctx context.Context, from int64, events []domain.Event) error {
	return p.s.applyProjection(ctx, projections.UsageCountersName, from, events, func(tx *sql.Tx) error {
		runs, err := p.readRuns(ctx, tx, projections.UsageRunIDs(events))
		if err != nil {
			return err
		}
		changes, err := projections.FoldUsage(runs, events)
		if err != nil {
			return err
		}
		return p.write(ctx, tx, changes)
	})
}

// readRuns reads the open runs of ids, in chunks that stay below SQLite's
// limit on bound parameters.
func (p usageCounters) readRuns(ctx context.Context, tx *sql.Tx, ids []string) (map[string]projections.UsageRun, error) {
	const chunk = 500
	runs := make(map[string]projections.UsageRun)
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		rows, err := p.s.q.UsageOpenRunsGet(ctx, tx, ids[:n])
		if err != nil {
			return nil, fmt.Errorf("read open runs: %w", err)
		}
		ids = ids[n:]
		for _, r := range rows {
			runs[r.TaskID] = projections.UsageRun{TaskID: r.TaskID, TenantID: r.TenantID, StartedAt: time.UnixMicro(r.StartedAt).UTC()}
		}
	}
	return runs, nil
}

// write stores a batch's changes in tx.
func (p usageCounters) write(ctx context.Context, tx *sql.Tx, c projections.UsageChanges) error {
	q := p.s.q
	for _, d := range c.Days {
		err := q.UsageCountersAdd(ctx, tx, dbsqlc.UsageCountersAddParams{
			TenantID: d.TenantID, Day: d.Day.UnixMicro(), TaskRunMs: d.TaskRunMS, TasksStarted: d.TasksStarted, StreamsOpened: d.StreamsOpened,
			BytesStreamed: d.BytesStreamed, McpCalls: d.MCPCalls, OutputBytes: d.OutputBytes,
		})
		if err != nil {
			return fmt.Errorf("add usage of tenant %s: %w", d.TenantID, err)
		}
	}
	for _, r := range c.Started {
		if err := q.UsageOpenRunPut(ctx, tx, dbsqlc.UsageOpenRunPutParams{TaskID: r.TaskID, TenantID: r.TenantID, StartedAt: r.StartedAt.UnixMicro()}); err != nil {
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
	return s.resetProjection(ctx, projections.UsageCountersName, func(tx *sql.Tx) error {
		if err := s.q.UsageCountersDeleteAll(ctx, tx); err != nil {
			return err
		}
		return s.q.UsageOpenRunsDeleteAll(ctx, tx)
	})
}

// UsageCountersRead implements projections.UsageStore. It runs on the
// read-only pool.
func (s *Store) UsageCountersRead(ctx context.Context, tenantID string, first, last time.Time) ([]projections.UsageDay, error) {
	if err := projections.ValidateUsageRange(tenantID, first, last); err != nil {
		return nil, err
	}
	rows, err := s.q.UsageCountersRange(ctx, s.rdb, dbsqlc.UsageCountersRangeParams{TenantID: tenantID, FirstDay: first.UnixMicro(), LastDay: last.UnixMicro()})
	if err != nil {
		return nil, fmt.Errorf("read the usage of tenant %s: %w", tenantID, s.closedOr(err))
	}
	return usageDays(rows), nil
}

// UsageCountersOfDay implements projections.UsageStore. It runs on the
// read-only pool.
func (s *Store) UsageCountersOfDay(ctx context.Context, day time.Time, afterTenantID string, limit int) ([]projections.UsageDay, error) {
	if err := projections.ValidateUsageDay(day, limit); err != nil {
		return nil, err
	}
	rows, err := s.q.UsageCountersOfDay(ctx, s.rdb, dbsqlc.UsageCountersOfDayParams{Day: day.UnixMicro(), AfterTenantID: afterTenantID, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("read the usage of %s: %w", day.Format(time.DateOnly), s.closedOr(err))
	}
	return usageDays(rows), nil
}

// usageDays maps rows of usage_counters (days in unix microseconds) to
// UsageDays.
func usageDays(rows []dbsqlc.UsageCounter) []projections.UsageDay {
	out := make([]projections.UsageDay, len(rows))
	for i, r := range rows {
		out[i] = projections.UsageDay{TenantID: r.TenantID, Day: time.UnixMicro(r.Day).UTC(), UsageCounts: projections.UsageCounts{
			TaskRunMS: r.TaskRunMs, TasksStarted: r.TasksStarted, StreamsOpened: r.StreamsOpened, BytesStreamed: r.BytesStreamed,
			MCPCalls: r.McpCalls, OutputBytes: r.OutputBytes,
		}}
	}
	return out
}
