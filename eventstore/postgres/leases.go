package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.LeaseStore = (*Store)(nil)

// PutLease implements eventstore.LeaseStore.
func (s *Store) PutLease(ctx context.Context, l eventstore.Lease) error {
	err := s.q.LeasePut(ctx, s.pool, dbsqlc.LeasePutParams{
		TaskID: l.TaskID, TenantID: l.TenantID, WorkerID: l.WorkerID, Attempt: int32(l.Attempt), ExpiresAt: l.ExpiresAt,
	})
	if err != nil {
		return fmt.Errorf("put lease of %s: %w", l.TaskID, err)
	}
	return nil
}

// RenewLease implements eventstore.LeaseStore.
func (s *Store) RenewLease(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error) {
	n, err := s.q.LeaseRenew(ctx, s.pool, dbsqlc.LeaseRenewParams{TaskID: taskID, WorkerID: workerID, Attempt: int32(attempt), ExpiresAt: expiresAt})
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", taskID, err)
	}
	return n == 1, nil
}

// DropLease implements eventstore.LeaseStore.
func (s *Store) DropLease(ctx context.Context, taskID string, attempt int) error {
	if err := s.q.LeaseDrop(ctx, s.pool, dbsqlc.LeaseDropParams{TaskID: taskID, Attempt: int32(attempt)}); err != nil {
		return fmt.Errorf("drop lease of %s: %w", taskID, err)
	}
	return nil
}

// ExpiredLeases implements eventstore.LeaseStore.
func (s *Store) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]eventstore.Lease, error) {
	rows, err := s.q.LeasesExpired(ctx, s.pool, dbsqlc.LeasesExpiredParams{Now: now, MaxLeases: int32(s.cfg.ClampLimit(limit))})
	if err != nil {
		return nil, fmt.Errorf("read expired leases: %w", err)
	}
	out := make([]eventstore.Lease, len(rows))
	for i, r := range rows {
		out[i] = eventstore.Lease{TaskID: r.TaskID, TenantID: r.TenantID, WorkerID: r.WorkerID, Attempt: int(r.Attempt), ExpiresAt: r.ExpiresAt.UTC()}
	}
	return out, nil
}
