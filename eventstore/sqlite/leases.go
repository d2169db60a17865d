package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
)

var _ eventstore.LeaseStore = (*Store)(nil)

// exec runs one write statement on the writer connection and returns the
// rows it affected.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := s.lockWriter(ctx); err != nil {
		return 0, err
	}
	defer s.unlockWriter()
	res, err := s.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, s.closedOr(err)
	}
	return res.RowsAffected()
}

// LeasePut implements eventstore.LeaseStore.
func (s *Store) LeasePut(ctx context.Context, l eventstore.Lease) error {
	_, err := s.exec(ctx, `INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (task_id) DO UPDATE SET tenant_id = excluded.tenant_id, worker_id = excluded.worker_id,
			attempt = excluded.attempt, expires_at = excluded.expires_at`,
		l.TaskID, l.TenantID, l.WorkerID, l.Attempt, l.ExpiresAt.UnixMicro())
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
	l, err := engine.ValidateLeaseWithin(l, limit)
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

	res, err := tx.ExecContext(ctx, queryPutLeaseWithin, l.TaskID, l.TenantID, l.WorkerID, l.Attempt, l.ExpiresAt.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		// Refused: read why in the same transaction.
		var taken bool
		if err := tx.QueryRowContext(ctx, queryLeaseExists, l.TaskID).Scan(&taken); err != nil {
			return nil, fmt.Errorf("refused, then look the task's lease up: %w", err)
		}
		refused = eventstore.ErrTenantAtLimit
		if taken {
			refused = eventstore.ErrLeaseTaken
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return refused, nil
}

// LeaseRenew implements eventstore.LeaseStore.
func (s *Store) LeaseRenew(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error) {
	n, err := s.exec(ctx, `UPDATE task_leases SET expires_at = ? WHERE task_id = ? AND worker_id = ? AND attempt = ?`,
		expiresAt.UnixMicro(), taskID, workerID, attempt)
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", taskID, err)
	}
	return n == 1, nil
}

// LeaseDrop implements eventstore.LeaseStore.
func (s *Store) LeaseDrop(ctx context.Context, taskID string, attempt int) error {
	if _, err := s.exec(ctx, `DELETE FROM task_leases WHERE task_id = ? AND attempt = ?`, taskID, attempt); err != nil {
		return fmt.Errorf("drop lease of %s: %w", taskID, err)
	}
	return nil
}

// LeasesExpired implements eventstore.LeaseStore.
func (s *Store) LeasesExpired(ctx context.Context, now time.Time, limit int) ([]eventstore.Lease, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT task_id, tenant_id, worker_id, attempt, expires_at
		FROM task_leases WHERE expires_at < ? ORDER BY expires_at LIMIT ?`, now.UnixMicro(), s.opts.ClampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("read expired leases: %w", s.closedOr(err))
	}
	defer func() { _ = rows.Close() }()
	var out []eventstore.Lease
	for rows.Next() {
		var l eventstore.Lease
		var expires int64
		if err := rows.Scan(&l.TaskID, &l.TenantID, &l.WorkerID, &l.Attempt, &expires); err != nil {
			return nil, fmt.Errorf("read expired leases: %w", err)
		}
		l.ExpiresAt = time.UnixMicro(expires).UTC()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read expired leases: %w", err)
	}
	return out, nil
}
