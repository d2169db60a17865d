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
	// PutLease records l, replacing any lease of the same task.
	PutLease(ctx context.Context, l Lease) error
	// RenewLease moves the expiry of the lease that workerID holds on attempt
	// of taskID. It reports false when that lease no longer exists (the
	// watchdog took the task back).
	RenewLease(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error)
	// DropLease removes the lease of attempt of taskID, if any.
	DropLease(ctx context.Context, taskID string, attempt int) error
	// ExpiredLeases returns up to limit leases that expired before now, oldest first.
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]Lease, error)
}
