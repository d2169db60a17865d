package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

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
// single-bigint keys of the elections (sealerLockKey, RunElected's keys),
// of migrationLockKey and of webhookClaimLockKey, so the two never meet,
// whatever a tenant's id.
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

// LeasePutWithin implements eventstore.LeaseStore: the function
// lease_put_within (migration 0025, first in 0006) takes the tenant's
// transaction-scoped advisory lock (leaseLockClass), which queues the
// calls of one tenant from every process, then inserts the lease with a
// statement that counts the tenant's leases (an index scan, not the bitmap
// scan that would visit every dead entry of this churning table) and skips
// a task already leased (ON CONFLICT DO NOTHING). The count runs after the lock is granted, in a fresh snapshot
// that sees every earlier holder's commit (a transaction's locks are
// released only once its commit is visible), so the limit is never
// passed. Calls for other tenants never wait for the lock. It goes
// through a group committer (see writeLeasePuts): the puts that arrive
// while one commits share the next commit, so that a tenant's claims do
// not queue one commit at a time on its lock.
func (s *Store) LeasePutWithin(ctx context.Context, l eventstore.Lease, limit int) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	l, err := engine.ValidateLeasePutWithin(l, limit)
	if err != nil {
		return fmt.Errorf("put lease within a limit: %w", err)
	}
	put := &leasePut{LeasePutWithinParams: dbsqlc.LeasePutWithinParams{
		LockClass: leaseLockClass, TaskID: l.TaskID, TenantID: l.TenantID, WorkerID: l.WorkerID,
		Attempt: int32(l.Attempt), ExpiresAt: l.ExpiresAt, MaxLeases: int64(limit),
	}}
	switch err := s.leases.commit(ctx, put); {
	case err != nil:
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, s.closedOr(err))
	case put.outcome == "taken":
		return fmt.Errorf("put lease of %s: %w", l.TaskID, eventstore.ErrLeaseTaken)
	case put.outcome == "full":
		return fmt.Errorf("put lease of %s (tenant %s, limit %d): %w", l.TaskID, l.TenantID, limit, eventstore.ErrTenantAtLimit)
	case put.outcome != "ok":
		return fmt.Errorf("put lease of %s: unexpected outcome %q", l.TaskID, put.outcome)
	}
	return nil
}

// leasePut is one LeasePutWithin: its statement's arguments and, once
// committed, its outcome ('ok', 'taken' or 'full').
type leasePut struct {
	dbsqlc.LeasePutWithinParams
	outcome string
}

// writeLeasePuts is the write of the lease puts' committer: their
// statements in one round trip and one transaction, in the order of their
// tenants (one tenant's in the order they came), so that two transactions
// in flight at once, of this process or another, take the tenants' locks
// in one order and never deadlock.
func (s *Store) writeLeasePuts(ctx context.Context, puts []*leasePut) []error {
	return writeInOrder(puts, func(a, b *leasePut) int { return strings.Compare(a.TenantID, b.TenantID) },
		func(p *leasePut) dbsqlc.LeasePutWithinParams { return p.LeasePutWithinParams },
		func(params []dbsqlc.LeasePutWithinParams) batchRows[string] {
			return s.q.LeasePutWithin(ctx, s.pool, params)
		},
		func(p *leasePut, outcome string) { p.outcome = outcome })
}

// AppendLeaseDrop implements eventstore.LeaseAppender: the lease is
// dropped just after the append, in the same transaction, if the append
// went in; both go through the group committer, as Append does.
func (s *Store) AppendLeaseDrop(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent, attempt int) ([]domain.Event, error) {
	return s.appendPart(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, func(p *part) {
		p.drop = attempt
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
