package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
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

// ValidateMarkWaiting checks the arguments of WaitingStore.MarkWaiting
// before any I/O and returns since normalized by domain.NormalizeTime.
// Every failure is a *domain.ValidationError: an invalid task or tenant id
// (fields "task_id", "tenant_id"), or a time that is unset or whose UTC
// year is outside 0001–9999 (field "since").
func ValidateMarkWaiting(taskID, tenantID string, since time.Time) (time.Time, error) {
	if err := domain.ValidateIdentifier("task_id", taskID); err != nil {
		return time.Time{}, err
	}
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return time.Time{}, err
	}
	if since.IsZero() {
		return time.Time{}, &domain.ValidationError{Field: "since", Reason: "must be set"}
	}
	if y := since.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, &domain.ValidationError{Field: "since", Reason: fmt.Sprintf("is in year %d (UTC), outside 0001–9999", y)}
	}
	return domain.NormalizeTime(since), nil
}

// ValidateStaleQueuedTasks checks the arguments of
// WaitingStore.StaleQueuedTasks before any I/O and returns the cutoff to
// compare stored times with (queuedBefore in UTC, rounded up to a whole
// microsecond, as RetentionCutoff does) and the page size to read: limit,
// or DefaultWaitingTasksLimit for a limit <= 0. Every failure is a
// *domain.ValidationError: a time that is unset or whose UTC year is
// outside 0001–9999 (field "queued_before"), or a limit above
// MaxWaitingTasksLimit (field "limit").
func ValidateStaleQueuedTasks(queuedBefore time.Time, limit int) (time.Time, int, error) {
	cutoff, err := microsecondCutoff("queued_before", queuedBefore)
	if err != nil {
		return time.Time{}, 0, err
	}
	limit, err = waitingListLimit(limit, "queued tasks")
	if err != nil {
		return time.Time{}, 0, err
	}
	return cutoff, limit, nil
}

// ValidateWaitingTasks checks the arguments of WaitingStore.WaitingTasks
// before any I/O and returns the page size to read: limit, or
// DefaultWaitingTasksLimit for a limit <= 0. Every failure is a
// *domain.ValidationError: a tenant id that is neither "" nor valid (field
// "tenant_id"), or a limit above MaxWaitingTasksLimit (field "limit").
func ValidateWaitingTasks(tenantID string, limit int) (int, error) {
	if tenantID != "" {
		if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
			return 0, err
		}
	}
	return waitingListLimit(limit, "waiting tasks")
}

func waitingListLimit(limit int, what string) (int, error) {
	switch {
	case limit <= 0:
		return DefaultWaitingTasksLimit, nil
	case limit > MaxWaitingTasksLimit:
		return 0, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; at most %d %s are listed at once", limit, MaxWaitingTasksLimit, what)}
	}
	return limit, nil
}
