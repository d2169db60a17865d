package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
)

// Lease is a worker's hold on one running attempt of a task. Leases are
// operational state beside the event log, not events: a worker renews its
// lease every few seconds, and only its loss becomes an event
// (task.lease_lost, appended by the watchdog).
type Lease struct {
	TaskID    string
	TenantID  string
	WorkerID  string
	Attempt   int
	ExpiresAt time.Time
}

// LeaseStore keeps leases in the same database as the events. Both store
// implementations provide it.
type LeaseStore interface {
	// PutLease records l, replacing any lease of the same task. It checks
	// no limit and takes no part in PutLeaseWithin's: a lease it puts
	// counts against its tenant's limit but is never refused.
	PutLease(ctx context.Context, l Lease) error
	// PutLeaseWithin records l only if no lease of l.TaskID exists (of any
	// attempt, held by any worker, under any tenant), or fails with
	// ErrLeaseTaken; and only if l.TenantID holds fewer than limit leases,
	// or fails with ErrTenantAtLimit (ErrLeaseTaken wins when both hold).
	// Every lease of the tenant counts, expired ones too: a dead worker's
	// task holds its slot until the watchdog takes the task back and drops
	// the lease. A refusal writes nothing. It is atomic and exact across
	// goroutines and processes sharing the store: of N concurrent calls for
	// N different tasks of a tenant without leases, exactly min(N, limit)
	// succeed. DropLease frees a slot at once. Invalid arguments fail with
	// a *domain.ValidationError before any I/O (see ValidateLeaseWithin).
	PutLeaseWithin(ctx context.Context, l Lease, limit int) error
	// RenewLease moves the expiry of the lease that workerID holds on attempt
	// of taskID. It reports false when that lease no longer exists (the
	// watchdog took the task back).
	RenewLease(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error)
	// DropLease removes the lease of attempt of taskID, if any.
	DropLease(ctx context.Context, taskID string, attempt int) error
	// ExpiredLeases returns up to limit leases that expired before now, oldest first.
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]Lease, error)
}

// ValidateLeaseWithin checks the arguments of LeaseStore.PutLeaseWithin
// before any I/O and returns l with ExpiresAt normalized by
// domain.NormalizeTime. Every failure is a *domain.ValidationError: an
// invalid task, tenant or worker id (fields "task_id", "tenant_id",
// "worker_id"), an attempt below 1 ("attempt"), an expiry that is unset or
// whose UTC year is outside 0001–9999 ("expires_at"), or a limit below 1
// ("limit": a plan without concurrency should refuse the task before
// leasing it).
func ValidateLeaseWithin(l Lease, limit int) (Lease, error) {
	for _, f := range []struct{ field, id string }{{"task_id", l.TaskID}, {"tenant_id", l.TenantID}, {"worker_id", l.WorkerID}} {
		if err := domain.ValidateIdentifier(f.field, f.id); err != nil {
			return Lease{}, err
		}
	}
	if l.Attempt < 1 {
		return Lease{}, &domain.ValidationError{Field: "attempt", Reason: fmt.Sprintf("is %d; attempts count from 1", l.Attempt)}
	}
	if l.ExpiresAt.IsZero() {
		return Lease{}, &domain.ValidationError{Field: "expires_at", Reason: "must be set"}
	}
	if y := l.ExpiresAt.UTC().Year(); y < 1 || y > 9999 {
		return Lease{}, &domain.ValidationError{Field: "expires_at", Reason: fmt.Sprintf("is in year %d (UTC), outside 0001–9999", y)}
	}
	if limit < 1 {
		return Lease{}, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be at least 1 (a plan without concurrency should refuse the task before leasing it)", limit)}
	}
	l.ExpiresAt = domain.NormalizeTime(l.ExpiresAt)
	return l, nil
}
