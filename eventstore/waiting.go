package eventstore

import (
	"context"
	"time"
)

// Limits of the listings of WaitingStore: WaitingTasks and
// StaleQueuedTasks.
const (
	// DefaultWaitingTasksLimit is the page size of a limit <= 0.
	DefaultWaitingTasksLimit = 100
	// MaxWaitingTasksLimit is the largest page a listing returns; a larger
	// limit is an error, not clamped.
	MaxWaitingTasksLimit = 1000
)

// WaitingTask is a queued task that waits to be dispatched: one that a
// worker left queued because its tenant was at its concurrency limit
// (ErrTenantAtLimit; WaitingStore.WaitingTasks), or one queued long ago
// that no worker holds or was told about (WaitingStore.StaleQueuedTasks).
type WaitingTask struct {
	TaskID   string
	TenantID string
	// Since is when the task started waiting (UTC, microseconds): when it
	// was first marked waiting (WaitingTasks), or when it was last queued
	// (StaleQueuedTasks).
	Since time.Time
}

// WaitingStore remembers the queued tasks that wait for a slot of their
// tenant, so that a worker can dispatch them again when a lease of the
// tenant is dropped. Like leases it is operational state beside the log,
// not events: it is in no hash chain and no feed, and it can be rebuilt
// from the queued tasks. Its rows are hints: a task listed here may have
// started or ended since, so a claim always checks the task's stream and
// the tenant's limit again (PutLeaseWithin). It also finds the queued
// tasks that no worker holds and none was told about (StaleQueuedTasks),
// from the task list read model, the leases and its own rows. Both store
// implementations provide it, and every method sees every call that has
// returned (ApplyTaskViews and lease calls too).
type WaitingStore interface {
	// MarkWaiting records that taskID of tenantID waits since since. It is
	// idempotent: a task already marked keeps its row as it is (its first
	// since, its tenant), so a task refused again and again stays as old as
	// its first refusal. Invalid arguments fail with a
	// *domain.ValidationError before any I/O (see ValidateMarkWaiting).
	MarkWaiting(ctx context.Context, taskID, tenantID string, since time.Time) error

	// UnmarkWaiting forgets that taskID waits; a task not marked is left
	// alone (no error). Call it once the task is claimed, canceled or ended.
	// An invalid task id fails with a *domain.ValidationError.
	UnmarkWaiting(ctx context.Context, taskID string) error

	// WaitingTasks returns up to limit waiting tasks of tenantID ("" for
	// every tenant), oldest first: in order of Since, then of TaskID (byte
	// order). A limit <= 0 means DefaultWaitingTasksLimit; a limit above
	// MaxWaitingTasksLimit or an invalid tenant id fails with a
	// *domain.ValidationError (see ValidateWaitingTasks).
	WaitingTasks(ctx context.Context, tenantID string, limit int) ([]WaitingTask, error)

	// StaleQueuedTasks returns the queued tasks, of every tenant, whose
	// work message may have been lost (a bus stream trimmed, a crash
	// between the commit and the publish): those that the task list read
	// model (projections.TaskViewStore, in the same database) shows queued
	// since strictly before queuedBefore, that hold no lease (expired ones
	// included: the watchdog takes those back) and that are not marked
	// waiting (WaitingTasks lists those). The oldest queued come first: in
	// order of Since, the task's latest task.queued time, then of TaskID
	// (byte order); at most limit of them (DefaultWaitingTasksLimit for a
	// limit <= 0). It has no cursor: dispatch the tasks of a page and ask
	// again, and the claimed ones are gone. The read model lags the log: a
	// task queued but not yet projected is not listed, and a listed task
	// may have started, or ended and dropped its lease, since; its rows
	// are hints, as WaitingTasks's are, and a claim checks the task's
	// stream again. A task queued again (a retry) counts from its latest
	// queuing. Invalid arguments fail with a *domain.ValidationError
	// before any I/O (see ValidateStaleQueuedTasks).
	StaleQueuedTasks(ctx context.Context, queuedBefore time.Time, limit int) ([]WaitingTask, error)
}
