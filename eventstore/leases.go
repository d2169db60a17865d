package eventstore

import (
	"context"
	"time"
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
