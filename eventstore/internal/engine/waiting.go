package engine

import (
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateTaskWaitingMark checks the arguments of WaitingStore.TaskWaitingMark
// before any I/O and returns since normalized by domain.NormalizeTime.
// Every failure is a *domain.ValidationError: an invalid task or tenant id
// (fields "task_id", "tenant_id"), or a time that is unset or whose UTC
// year is outside 0001–9999 (field "since").
func ValidateTaskWaitingMark(taskID, tenantID string, since time.Time) (time.Time, error) {
	if err := domain.ValidateIdentifier("task_id", taskID); err != nil {
		return time.Time{}, err
	}
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return time.Time{}, err
	}
	if err := checkTime("since", since); err != nil {
		return time.Time{}, err
	}
	return domain.NormalizeTime(since), nil
}

// ValidateTaskViewsStaleQueued checks the arguments of
// projections.StaleQueuedStore.TaskViewsStaleQueued before any I/O and returns the cutoff to
// compare stored times with (queuedBefore in UTC, rounded up to a whole
// microsecond, as retentionCutoff does) and the page size to read: limit,
// or DefaultWaitingTasksLimit for a limit <= 0. Every failure is a
// *domain.ValidationError: a time that is unset or whose UTC year is
// outside 0001–9999 (field "queued_before"), or a limit above
// MaxWaitingTasksLimit (field "limit").
func ValidateTaskViewsStaleQueued(queuedBefore time.Time, limit int) (time.Time, int, error) {
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

// ValidateTaskWaitingList checks the arguments of WaitingStore.TaskWaitingList
// before any I/O and returns the page size to read: limit, or
// DefaultWaitingTasksLimit for a limit <= 0. Every failure is a
// *domain.ValidationError: a tenant id that is neither "" nor valid (field
// "tenant_id"), or a limit above MaxWaitingTasksLimit (field "limit").
func ValidateTaskWaitingList(tenantID string, limit int) (int, error) {
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
		return eventstore.DefaultWaitingTasksLimit, nil
	case limit > eventstore.MaxWaitingTasksLimit:
		return 0, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; at most %d %s are listed at once", limit, eventstore.MaxWaitingTasksLimit, what)}
	}
	return limit, nil
}
