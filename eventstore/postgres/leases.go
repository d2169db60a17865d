package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var (
	_ eventstore.LeaseStore    = (*Store)(nil)
	_ eventstore.LeaseAppender = (*Store)(nil)
)

// leaseLockClass is the class (first key) of the two-int advisory locks
// that serialize LeasePutWithin per tenant; the second key is
// hashtext(tenant_id). Postgres keeps two-int keys apart from the
// single-bigint keys of the elections (sealerLockKey, RunElected's keys)
// and of migrationLockKey, so the two never meet, whatever a tenant's id.
// Any other two-int advisory lock of AxonTask must use another class.
const leaseLockClass int32 = 0x61786c73 // "axls"

// LeasePut implements eventstore.LeaseStore.
func (s *Store) LeasePut(ctx context.Context, l eventstore.Lease) error {
	err := s.q.LeasePut(ctx, s.pool, dbsqlc.LeasePutParams{
		TaskID: l.TaskID, TenantID: l.TenantID, WorkerID: l.WorkerID, Attempt: int32(l.Attempt), ExpiresAt: l.ExpiresAt,
	})
	if err != nil {
		return fmt.Errorf("put lease of %s: %w", l.TaskID, err)
	}
	return nil
}

// LeasePutWithin implements eventstore.LeaseStore, in one round trip: the
// function lease_put_within (migration 0006) takes the tenant's
// transaction-scoped advisory lock (leaseLockClass), which queues the
// calls of one tenant from every process, then inserts the lease with a
// statement that counts the tenant's leases and skips a task already
// leased (ON CONFLICT DO NOTHING). The count runs after the lock is
// granted, in a fresh snapshot that sees every earlier holder's commit (a
// transaction's locks are released only once its commit is visible), so
// the limit is never passed. Calls for other tenants never wait for the
// lock.
func (s *Store) LeasePutWithin(ctx context.Context, l eventstore.Lease, limit int) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	l, err := engine.ValidateLeasePutWithin(l, limit)
	if err != nil {
		return fmt.Errorf("put lease within a limit: %w", err)
	}
	return s.leaseTake(ctx, s.pool, l, limit)
}

// leaseTake runs lease_put_within on db (the pool, or a transaction whose
// commit then releases the tenant's lock) and maps its outcome.
func (s *Store) leaseTake(ctx context.Context, db dbsqlc.DBTX, l eventstore.Lease, limit int) error {
	outcome, err := s.q.LeasePutWithin(ctx, db, dbsqlc.LeasePutWithinParams{
		LockClass: leaseLockClass, TaskID: l.TaskID, TenantID: l.TenantID, WorkerID: l.WorkerID,
		Attempt: int32(l.Attempt), ExpiresAt: l.ExpiresAt, MaxLeases: int64(limit),
	})
	switch {
	case err != nil:
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, err)
	case outcome == "taken":
		return fmt.Errorf("put lease of %s: %w", l.TaskID, eventstore.ErrLeaseTaken)
	case outcome == "full":
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, eventstore.ErrTenantAtLimit)
	case outcome != "ok":
		return fmt.Errorf("put lease of %s: unexpected outcome %q", l.TaskID, outcome)
	}
	return nil
}

// AppendLeaseTake implements eventstore.LeaseAppender, in one transaction
// that takes the lease first: a refusal appends nothing.
func (s *Store) AppendLeaseTake(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent, l eventstore.Lease, limit int) ([]domain.Event, error) {
	l, err := engine.ValidateLeaseTake(stream, l, limit)
	if err != nil {
		return nil, fmt.Errorf("append with a lease: %w", err)
	}
	return s.appendWith(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, func(tx pgx.Tx) error {
		return s.leaseTake(ctx, tx, l, limit)
	})
}

// AppendLeaseDrop implements eventstore.LeaseAppender.
func (s *Store) AppendLeaseDrop(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent, attempt int) ([]domain.Event, error) {
	return s.appendWith(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, func(tx pgx.Tx) error {
		if err := s.q.LeaseDrop(ctx, tx, dbsqlc.LeaseDropParams{TaskID: stream.ID, Attempt: int32(attempt)}); err != nil {
			return fmt.Errorf("drop lease of %s: %w", stream.ID, err)
		}
		return nil
	})
}

// LeaseRenew implements eventstore.LeaseStore.
func (s *Store) LeaseRenew(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error) {
	n, err := s.q.LeaseRenew(ctx, s.pool, dbsqlc.LeaseRenewParams{TaskID: taskID, WorkerID: workerID, Attempt: int32(attempt), ExpiresAt: expiresAt})
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", taskID, err)
	}
	return n == 1, nil
}

// LeaseDrop implements eventstore.LeaseStore.
func (s *Store) LeaseDrop(ctx context.Context, taskID string, attempt int) error {
	if err := s.q.LeaseDrop(ctx, s.pool, dbsqlc.LeaseDropParams{TaskID: taskID, Attempt: int32(attempt)}); err != nil {
		return fmt.Errorf("drop lease of %s: %w", taskID, err)
	}
	return nil
}

// LeasesExpired implements eventstore.LeaseStore.
func (s *Store) LeasesExpired(ctx context.Context, now time.Time, limit int) ([]eventstore.Lease, error) {
	rows, err := s.q.LeasesExpired(ctx, s.pool, dbsqlc.LeasesExpiredParams{Now: now, MaxLeases: int32(engine.ClampLimit(s.cfg.Options, limit))})
	if err != nil {
		return nil, fmt.Errorf("read expired leases: %w", err)
	}
	out := make([]eventstore.Lease, len(rows))
	for i, r := range rows {
		out[i] = eventstore.Lease{TaskID: r.TaskID, TenantID: r.TenantID, WorkerID: r.WorkerID, Attempt: int(r.Attempt), ExpiresAt: r.ExpiresAt.UTC()}
	}
	return out, nil
}
