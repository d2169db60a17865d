package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
)

// Limits of WaitingStore.WaitingTasks.
const (
	// DefaultWaitingTasksLimit is the page size of a WaitingTasks limit <= 0.
	DefaultWaitingTasksLimit = 100
	// MaxWaitingTasksLimit is the largest page WaitingTasks returns; a
	// larger limit is an error, not clamped.
	MaxWaitingTasksLimit = 1000
)

// WaitingTask is a queued task that a worker left queued because its
// tenant was at its concurrency limit (ErrTenantAtLimit).
type WaitingTask struct {
	TaskID   string
	TenantID string
	// Since is when the task was first marked waiting (UTC, microseconds).
	Since time.Time
}

// WaitingStore remembers the queued tasks that wait for a slot of their
// tenant, so that a worker can dispatch them again when a lease of the
// tenant is dropped. Like leases it is operational state beside the log,
// not events: it is in no hash chain and no feed, and it can be rebuilt
// from the queued tasks. Its rows are hints: a task listed here may have
// started or ended since, so a claim always checks the task's stream and
// the tenant's limit again (PutLeaseWithin). Both store implementations
// provide it, and every method sees every call that has returned.
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
	switch {
	case limit <= 0:
		return DefaultWaitingTasksLimit, nil
	case limit > MaxWaitingTasksLimit:
		return 0, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; at most %d waiting tasks are listed at once", limit, MaxWaitingTasksLimit)}
	}
	return limit, nil
}
