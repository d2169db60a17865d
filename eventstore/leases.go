package eventstore

import (
	"context"
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

// LeaseStore keeps leases in the same database as the events: one port of
// the operational state beside the log (see Store). Both engines' stores
// implement it; eventstore/storetest.RunLeases is its conformance suite.
// Every method sees every call that has returned.
type LeaseStore interface {
	// LeasePut records l, replacing any lease of the same task. It checks
	// no limit and takes no part in LeasePutWithin's: a lease it puts
	// counts against its tenant's limit but is never refused.
	LeasePut(ctx context.Context, l Lease) error
	// LeasePutWithin records l only if no lease of l.TaskID exists (of any
	// attempt, held by any worker, under any tenant), or fails with
	// ErrLeaseTaken; and only if l.TenantID holds fewer than limit leases,
	// or fails with ErrTenantAtLimit (ErrLeaseTaken wins when both hold).
	// Every lease of the tenant counts, expired ones too: a dead worker's
	// task holds its slot until the watchdog takes the task back and drops
	// the lease. A refusal writes nothing. It is atomic and exact across
	// goroutines and processes sharing the store: of N concurrent calls for
	// N different tasks of a tenant without leases, exactly min(N, limit)
	// succeed. LeaseDrop frees a slot at once. Invalid arguments fail with
	// a *domain.ValidationError before any I/O: an invalid task, tenant or
	// worker id (fields "task_id", "tenant_id", "worker_id"), an attempt
	// below 1 ("attempt"), an expiry that is unset or whose UTC year is
	// outside 0001–9999 ("expires_at"), or a limit below 1 ("limit": a plan
	// without concurrency should refuse the task before leasing it).
	LeasePutWithin(ctx context.Context, l Lease, limit int) error
	// LeaseRenew moves the expiry of the lease that workerID holds on attempt
	// of taskID. It reports false when that lease no longer exists (the
	// watchdog took the task back).
	LeaseRenew(ctx context.Context, taskID, workerID string, attempt int, expiresAt time.Time) (bool, error)
	// LeaseDrop removes the lease of attempt of taskID, if any.
	LeaseDrop(ctx context.Context, taskID string, attempt int) error
	// LeasesExpired returns up to limit leases that expired before now, oldest first.
	LeasesExpired(ctx context.Context, now time.Time, limit int) ([]Lease, error)
}

// LeaseAppender appends to a task's stream and takes or drops the task's
// lease in the same transaction, one commit for both: a worker's claim
// with the lease it takes, an attempt's end with the lease it releases.
// Both engines' stores implement it; eventstore/storetest.RunLeases covers
// it.
type LeaseAppender interface {
	// AppendLeaseTake appends events to stream as Store.Append does and
	// records lease as LeaseStore.LeasePutWithin(lease, limit) does, both
	// or neither: a refused lease fails with ErrLeaseTaken or
	// ErrTenantAtLimit and appends nothing; a failed append (a conflict)
	// takes no lease. A retry of an append that committed returns the
	// stored events and leaves the lease alone. The arguments are checked
	// as Append and LeasePutWithin check them; lease.TaskID must be
	// stream.ID.
	AppendLeaseTake(ctx context.Context, stream Stream, expectedSeq int64, events []domain.NewEvent, lease Lease, limit int) ([]domain.Event, error)
	// AppendLeaseDrop appends events to stream as Store.Append does and
	// drops the lease of attempt of the task stream.ID (if any), both or
	// neither: a failed append keeps the lease. A retry of an append that
	// committed returns the stored events.
	AppendLeaseDrop(ctx context.Context, stream Stream, expectedSeq int64, events []domain.NewEvent, attempt int) ([]domain.Event, error)
}
