package eventstore

import (
	"context"
	"time"
)

// Limits of the listings of waiting tasks: WaitingStore.TaskWaitingList and
// projections.StaleQueuedStore.TaskViewsStaleQueued.
const (
	// DefaultWaitingTasksLimit is the page size of a limit <= 0.
	DefaultWaitingTasksLimit = 100
	// MaxWaitingTasksLimit is the largest page a listing returns; a larger
	// limit is an error, not clamped.
	MaxWaitingTasksLimit = 1000
)

// WaitingTask is a queued task that waits to be dispatched: one that a
// worker left queued because its tenant was at its concurrency limit
// (ErrTenantAtLimit; WaitingStore.TaskWaitingList), or one queued long ago
// that no worker holds or was told about
// (projections.StaleQueuedStore.TaskViewsStaleQueued).
type WaitingTask struct {
	TaskID   string
	TenantID string
	// Since is when the task started waiting (UTC, microseconds): when it
	// was first marked waiting (TaskWaitingList), or when it was last
	// queued (TaskViewsStaleQueued).
	Since time.Time
}

// WaitingStore remembers the queued tasks that wait for a slot of their
// tenant, so that a worker can dispatch them again when a lease of the
// tenant is dropped: one port of the operational state beside the log (see
// Store). It is in no hash chain and no feed, and it can be rebuilt from
// the queued tasks. Its rows are hints: a task listed here may have started
// or ended since, so a claim always checks the task's stream and the
// tenant's limit again (LeaseStore.LeasePutWithin). Both engines' stores
// implement it; eventstore/storetest.RunWaiting is its conformance suite.
// Every method sees every call that has returned.
type WaitingStore interface {
	// TaskWaitingMark records that taskID of tenantID waits since since. It
	// is idempotent: a task already marked keeps its row as it is (its
	// first since, its tenant), so a task refused again and again stays as
	// old as its first refusal. Invalid arguments fail with a
	// *domain.ValidationError before any I/O: an invalid task or tenant id
	// (fields "task_id", "tenant_id"), or a time that is unset or whose UTC
	// year is outside 0001–9999 (field "since").
	TaskWaitingMark(ctx context.Context, taskID, tenantID string, since time.Time) error

	// TaskWaitingUnmark forgets that taskID waits; a task not marked is left
	// alone (no error). Call it once the task is claimed, canceled or ended.
	// An invalid task id fails with a *domain.ValidationError.
	TaskWaitingUnmark(ctx context.Context, taskID string) error

	// TaskWaitingList returns up to limit waiting tasks of tenantID ("" for
	// every tenant), oldest first: in order of Since, then of TaskID (byte
	// order). A limit <= 0 means DefaultWaitingTasksLimit; a limit above
	// MaxWaitingTasksLimit (field "limit") or a tenant id that is neither ""
	// nor valid (field "tenant_id") fails with a *domain.ValidationError.
	TaskWaitingList(ctx context.Context, tenantID string, limit int) ([]WaitingTask, error)
}
