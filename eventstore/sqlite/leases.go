package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var (
	_ eventstore.LeaseStore    = (*Store)(nil)
	_ eventstore.LeaseAppender = (*Store)(nil)
)

// write runs one write statement, fn, on the writer connection, holding
// the write slot.
func (s *Store) write(ctx context.Context, fn func(db dbsqlc.DBTX) error) error {
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	return s.closedOr(fn(s.writer))
}

// LeasePut implements eventstore.LeaseStore.
func (s *Store) LeasePut(ctx context.Context, l eventstore.Lease) error {
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.LeasePut(ctx, db, dbsqlc.LeasePutParams{
			TaskID: l.TaskID, TenantID: l.TenantID, WorkerID: l.WorkerID, Attempt: int64(l.Attempt), ExpiresAt: l.ExpiresAt.UnixMicro(),
		})
	})
	if err != nil {
		return fmt.Errorf("put lease of %s: %w", l.TaskID, err)
	}
	return nil
}

// LeasePutWithin implements eventstore.LeaseStore. It runs on the writer
// connection, in one write transaction: an insert that counts the tenant's
// leases and skips a task already leased and, only on a refusal, a look-up
// of the task's lease to tell ErrLeaseTaken from ErrTenantAtLimit. Calls
// of every goroutine queue for the writer (with appends) for as long as
// ctx allows, and SQLite's write lock serializes them with other processes
// on the file, so the limit is never passed.
func (s *Store) LeasePutWithin(ctx context.Context, l eventstore.Lease, limit int) error {
	if s.closed.Load() {
		return fmt.Errorf("put lease within a limit: %w", eventstore.ErrClosed)
	}
	l, err := engine.ValidateLeasePutWithin(l, limit)
	if err != nil {
		return fmt.Errorf("put lease within a limit: %w", err)
	}
	if err := s.lockWriter(ctx); err != nil {
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, err)
	}
	refused, err := s.putLeaseWithin(ctx, l, limit)
	s.unlockWriter()
	if err != nil {
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, s.closedOr(err))
	}
	if refused != nil {
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, refused)
	}
	return nil
}

// putLeaseWithin runs one LeasePutWithin in one write transaction and
// returns the sentinel of a refusal. The caller holds the write slot.
func (s *Store) putLeaseWithin(ctx context.Context, l eventstore.Lease, limit int) (refused, err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; a failed put reports its own error
	if refused, err = s.leaseTake(ctx, tx, l, limit); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return refused, nil
}

// leaseTake inserts the lease inside a write transaction unless the task
// has one or the tenant holds limit: then it returns the sentinel of the
// refusal, read in the same transaction.
func (s *Store) leaseTake(ctx context.Context, tx dbsqlc.DBTX, l eventstore.Lease, limit int) (refused, err error) {
	n, err := s.q.LeasePutWithin(ctx, tx, dbsqlc.LeasePutWithinParams{
		TaskID: l.TaskID, TenantID: l.TenantID, WorkerID: l.WorkerID, Attempt: int64(l.Attempt), ExpiresAt: l.ExpiresAt.UnixMicro(),
		MaxLeases: int64(limit),
	})
	if err != nil || n > 0 {
		return nil, err
	}
	taken, err := s.q.LeaseExists(ctx, tx, l.TaskID)
	if err != nil {
		return nil, fmt.Errorf("refused, then look the task's lease up: %w", err)
	}
	if taken {
		return eventstore.ErrLeaseTaken, nil
	}
	return eventstore.ErrTenantAtLimit, nil
}

// AppendLeaseTake implements eventstore.LeaseAppender, in one write
// transaction that takes the lease first: a refusal appends nothing.
func (s *Store) AppendLeaseTake(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent, l eventstore.Lease, limit int) ([]domain.Event, error) {
	l, err := engine.ValidateLeaseTake(stream, l, limit)
	if err != nil {
		return nil, fmt.Errorf("append with a lease: %w", err)
	}
	return s.appendWith(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, func(tx *sql.Tx) error {
		refused, err := s.leaseTake(ctx, tx, l, limit)
		if refused != nil {
			return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, refused)
		}
		return err
	})
}

// AppendLeaseDrop implements eventstore.LeaseAppender.
func (s *Store) AppendLeaseDrop(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent, attempt int) ([]domain.Event, error) {
	return s.appendWith(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, func(tx *sql.Tx) error {
		return s.q.LeaseDrop(ctx, tx, dbsqlc.LeaseDropParams{TaskID: stream.ID, Attempt: int64(attempt)})
	})
}

// LeaseRenew implements eventstore.LeaseStore.
func (s *Store) LeaseRenew(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) (err error) {
		n, err = s.q.LeaseRenew(ctx, db, dbsqlc.LeaseRenewParams{ExpiresAt: expiresAt.UnixMicro(), TaskID: taskID, WorkerID: workerID, Attempt: int64(attempt)})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", taskID, err)
	}
	return n == 1, nil
}

// LeaseDrop implements eventstore.LeaseStore.
func (s *Store) LeaseDrop(ctx context.Context, taskID string, attempt int) error {
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.LeaseDrop(ctx, db, dbsqlc.LeaseDropParams{TaskID: taskID, Attempt: int64(attempt)})
	})
	if err != nil {
		return fmt.Errorf("drop lease of %s: %w", taskID, err)
	}
	return nil
}

// LeasesExpired implements eventstore.LeaseStore.
func (s *Store) LeasesExpired(ctx context.Context, now time.Time, limit int) ([]eventstore.Lease, error) {
	rows, err := s.q.LeasesExpired(ctx, s.rdb, dbsqlc.LeasesExpiredParams{Now: now.UnixMicro(), MaxRows: int64(engine.ClampLimit(s.opts, limit))})
	if err != nil {
		return nil, fmt.Errorf("read expired leases: %w", s.closedOr(err))
	}
	var out []eventstore.Lease
	for _, r := range rows {
		out = append(out, eventstore.Lease{
			TaskID: r.TaskID, TenantID: r.TenantID, WorkerID: r.WorkerID, Attempt: int(r.Attempt), ExpiresAt: time.UnixMicro(r.ExpiresAt).UTC(),
		})
	}
	return out, nil
}
