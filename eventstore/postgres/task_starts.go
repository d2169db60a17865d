package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.TaskStartStore = (*Store)(nil)

// TaskStartReserve implements eventstore.TaskStartStore: one INSERT … ON
// CONFLICT DO UPDATE … WHERE statement, atomic on its own, so that
// concurrent reservations from any number of processes queue on the day's
// row and never pass the limit, whatever their counts. It goes through a
// group committer: the reservations that arrive while one commits are sent
// together, one statement each in order, in one transaction, so that a
// tenant's starts do not queue one commit at a time on its row. Only a
// refusal costs a second query, which reads the count.
func (s *Store) TaskStartReserve(ctx context.Context, tenantID string, day time.Time, n, limit int) (int, bool, error) {
	if s.closed.Load() {
		return 0, false, eventstore.ErrClosed
	}
	d, limit, err := engine.ValidateTaskStartReserve(tenantID, day, n, limit)
	if err != nil {
		return 0, false, fmt.Errorf("reserve task starts: %w", err)
	}
	r := &reservation{TenantDailyUsageReserveParams: dbsqlc.TenantDailyUsageReserveParams{
		TenantID: tenantID, Day: d, Starts: int32(n), MaxTasks: int64(limit), // n <= MaxTaskStartsLimit
	}}
	err = s.starts.commit(ctx, r)
	switch {
	case err == nil:
		return r.used, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, false, fmt.Errorf("reserve %d task starts of %s on %s: %w", n, tenantID, d.Format(time.DateOnly), s.closedOr(err))
	}
	current, err := s.taskStartsUsed(ctx, tenantID, d)
	if err != nil {
		return 0, false, fmt.Errorf("reserve %d task starts of %s on %s: refused, then read the count: %w", n, tenantID, d.Format(time.DateOnly), err)
	}
	return current, false, nil
}

// reservation is one TaskStartReserve: its statement's arguments and, once
// committed, the day's new count.
type reservation struct {
	dbsqlc.TenantDailyUsageReserveParams
	used int
}

// writeReservations is the write of the reservations' committer: their
// statements in one round trip and one transaction, in the order of their
// tenants and days (one day's in the order they came), so that two
// transactions in flight at once, of this process or another, lock the
// days' rows in one order and never deadlock. A refused reservation's
// outcome is pgx.ErrNoRows.
func (s *Store) writeReservations(ctx context.Context, rs []*reservation) []error {
	return writeInOrder(rs, func(a, b *reservation) int {
		return cmp.Or(strings.Compare(a.TenantID, b.TenantID), a.Day.Compare(b.Day))
	},
		func(r *reservation) dbsqlc.TenantDailyUsageReserveParams { return r.TenantDailyUsageReserveParams },
		func(params []dbsqlc.TenantDailyUsageReserveParams) batchRows[int32] {
			return s.q.TenantDailyUsageReserve(ctx, s.pool, params)
		},
		func(r *reservation, used int32) { r.used = int(used) })
}

// TaskStartRelease implements eventstore.TaskStartStore: one UPDATE.
func (s *Store) TaskStartRelease(ctx context.Context, tenantID string, day time.Time, n int) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	d, err := engine.ValidateTaskStartCount(tenantID, day, n)
	if err != nil {
		return fmt.Errorf("release task starts: %w", err)
	}
	err = s.q.TenantDailyUsageRelease(ctx, s.pool, dbsqlc.TenantDailyUsageReleaseParams{Starts: int32(n), TenantID: tenantID, Day: d})
	if err != nil {
		return fmt.Errorf("release %d task starts of %s on %s: %w", n, tenantID, d.Format(time.DateOnly), err)
	}
	return nil
}

// TaskStartCount implements eventstore.TaskStartStore: one primary-key look-up.
func (s *Store) TaskStartCount(ctx context.Context, tenantID string, day time.Time) (int, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	d, err := engine.ValidateTaskStartDay(tenantID, day)
	if err != nil {
		return 0, fmt.Errorf("read task starts: %w", err)
	}
	n, err := s.taskStartsUsed(ctx, tenantID, d)
	if err != nil {
		return 0, fmt.Errorf("read task starts of %s on %s: %w", tenantID, d.Format(time.DateOnly), err)
	}
	return n, nil
}

// taskStartsUsed reads the count of a validated day: 0 without a row.
func (s *Store) taskStartsUsed(ctx context.Context, tenantID string, day time.Time) (int, error) {
	n, err := s.q.TenantDailyUsageGet(ctx, s.pool, dbsqlc.TenantDailyUsageGetParams{TenantID: tenantID, Day: day})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return int(n), nil
}
