package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.TaskStartStore = (*Store)(nil)

// TaskStartReserve implements eventstore.TaskStartStore. It runs on the writer
// connection, in one write transaction (taken at BEGIN): an upsert that
// refuses to pass the limit and, only on a refusal, a read of the count. Reservations of every
// goroutine queue for the writer (with appends) for as long as ctx allows,
// and SQLite's write lock serializes them with other processes on the file,
// so the limit is never passed. Days are stored as 'YYYY-MM-DD' text.
func (s *Store) TaskStartReserve(ctx context.Context, tenantID string, day time.Time, n, limit int) (int, bool, error) {
	if s.closed.Load() {
		return 0, false, fmt.Errorf("reserve task starts: %w", eventstore.ErrClosed)
	}
	d, limit, err := engine.ValidateTaskStartReserve(tenantID, day, n, limit)
	if err != nil {
		return 0, false, fmt.Errorf("reserve task starts: %w", err)
	}
	date := d.Format(time.DateOnly)
	if err := s.lockWriter(ctx); err != nil {
		return 0, false, fmt.Errorf("reserve %d task starts of %s on %s: %w", n, tenantID, date, err)
	}
	used, ok, err := s.reserveTaskStarts(ctx, tenantID, date, n, limit)
	s.unlockWriter()
	if err != nil {
		return 0, false, fmt.Errorf("reserve %d task starts of %s on %s: %w", n, tenantID, date, s.closedOr(err))
	}
	return used, ok, nil
}

// reserveTaskStarts runs one reservation of n starts in one write
// transaction. The caller holds the write slot.
func (s *Store) reserveTaskStarts(ctx context.Context, tenantID, date string, n, limit int) (int, bool, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; a failed reservation reports its own error

	ok := true
	used, err := s.q.TenantDailyUsageReserve(ctx, tx, dbsqlc.TenantDailyUsageReserveParams{TenantID: tenantID, Day: date, Starts: int64(n), MaxTasks: int64(limit)})
	if errors.Is(err, sql.ErrNoRows) {
		// Refused: at the limit. Read the count in the same transaction,
		// so it is the one that refused.
		ok = false
		used, err = s.q.TenantDailyUsageGet(ctx, tx, dbsqlc.TenantDailyUsageGetParams{TenantID: tenantID, Day: date})
		if errors.Is(err, sql.ErrNoRows) {
			// Refused on a day without starts: more than the limit at once.
			used, err = 0, nil
		}
	}
	if err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("commit: %w", err)
	}
	return int(used), ok, nil
}

// TaskStartRelease implements eventstore.TaskStartStore: one statement on the writer
// connection.
func (s *Store) TaskStartRelease(ctx context.Context, tenantID string, day time.Time, n int) error {
	if s.closed.Load() {
		return fmt.Errorf("release task starts: %w", eventstore.ErrClosed)
	}
	d, err := engine.ValidateTaskStartCount(tenantID, day, n)
	if err != nil {
		return fmt.Errorf("release task starts: %w", err)
	}
	date := d.Format(time.DateOnly)
	err = s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.TenantDailyUsageRelease(ctx, db, dbsqlc.TenantDailyUsageReleaseParams{Starts: int64(n), TenantID: tenantID, Day: date})
	})
	if err != nil {
		return fmt.Errorf("release %d task starts of %s on %s: %w", n, tenantID, date, err)
	}
	return nil
}

// TaskStartCount implements eventstore.TaskStartStore. It runs on the read-only pool
// and never waits for the writer.
func (s *Store) TaskStartCount(ctx context.Context, tenantID string, day time.Time) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("read task starts: %w", eventstore.ErrClosed)
	}
	d, err := engine.ValidateTaskStartDay(tenantID, day)
	if err != nil {
		return 0, fmt.Errorf("read task starts: %w", err)
	}
	date := d.Format(time.DateOnly)
	used, err := s.q.TenantDailyUsageGet(ctx, s.rdb, dbsqlc.TenantDailyUsageGetParams{TenantID: tenantID, Day: date})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("read task starts of %s on %s: %w", tenantID, date, s.closedOr(err))
	}
	return int(used), nil
}
