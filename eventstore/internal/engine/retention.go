package engine

import (
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/projections"
)

// ValidateTaskViewsTenantsWithEnded checks the arguments of
// projections.EndedTaskStore.TaskViewsTenantsWithEnded before any I/O and returns the cutoff
// to compare stored times with (see retentionCutoff) and the page size to
// read. Every failure is a *domain.ValidationError: a time that is unset or
// whose UTC year is outside 0001–9999 (field "ended_before"), an
// afterTenantID that is neither "" nor a valid identifier (field
// "after_tenant_id"), or a limit above MaxRetentionListLimit (field "limit").
func ValidateTaskViewsTenantsWithEnded(endedBefore time.Time, afterTenantID string, limit int) (time.Time, int, error) {
	cutoff, err := retentionCutoff(endedBefore)
	if err != nil {
		return time.Time{}, 0, err
	}
	if afterTenantID != "" {
		if err := domain.ValidateIdentifier("after_tenant_id", afterTenantID); err != nil {
			return time.Time{}, 0, err
		}
	}
	limit, err = retentionListLimit(limit, "tenants")
	if err != nil {
		return time.Time{}, 0, err
	}
	return cutoff, limit, nil
}

// ValidateTaskViewsEndedOfTenant checks the arguments of projections.EndedTaskStore.TaskViewsEndedOfTenant
// before any I/O, as ValidateTaskViewsTenantsWithEnded does, with an invalid
// tenant id failing on field "tenant_id".
func ValidateTaskViewsEndedOfTenant(tenantID string, endedBefore time.Time, limit int) (time.Time, int, error) {
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return time.Time{}, 0, err
	}
	cutoff, err := retentionCutoff(endedBefore)
	if err != nil {
		return time.Time{}, 0, err
	}
	limit, err = retentionListLimit(limit, "tasks")
	if err != nil {
		return time.Time{}, 0, err
	}
	return cutoff, limit, nil
}

// retentionCutoff returns endedBefore in UTC, rounded up to a whole
// microsecond: stored end times have microsecond precision, so a stored
// time is before endedBefore exactly when it is before the cutoff. An
// unset time, or one whose UTC year is outside 0001–9999, fails with a
// *domain.ValidationError (field "ended_before").
func retentionCutoff(endedBefore time.Time) (time.Time, error) {
	return microsecondCutoff("ended_before", endedBefore)
}

// microsecondCutoff returns before in UTC, rounded up to a whole
// microsecond, or a *domain.ValidationError on field for a time that is
// unset or whose UTC year is outside 0001–9999.
func microsecondCutoff(field string, before time.Time) (time.Time, error) {
	if err := checkTime(field, before); err != nil {
		return time.Time{}, err
	}
	cutoff := domain.NormalizeTime(before)
	if cutoff.Before(before) {
		cutoff = cutoff.Add(time.Microsecond)
	}
	return cutoff, nil
}

func retentionListLimit(limit int, what string) (int, error) {
	switch {
	case limit <= 0:
		return projections.DefaultRetentionListLimit, nil
	case limit > projections.MaxRetentionListLimit:
		return 0, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; at most %d %s are listed at once", limit, projections.MaxRetentionListLimit, what)}
	}
	return limit, nil
}

// ValidateTaskPrune checks the arguments of eventstore.PruneStore.TaskPrune before
// any I/O and returns at normalized by domain.NormalizeTime. Every failure
// is a *domain.ValidationError: an invalid task id (field "task_id"), or a
// time that is unset or whose UTC year is outside 0001–9999 (field "at").
func ValidateTaskPrune(taskID string, at time.Time) (time.Time, error) {
	if err := domain.ValidateIdentifier("task_id", taskID); err != nil {
		return time.Time{}, err
	}
	if err := checkTime("at", at); err != nil {
		return time.Time{}, err
	}
	return domain.NormalizeTime(at), nil
}

// CheckPrunable decides, inside TaskPrune's transaction, whether a stream
// may be pruned, from its last event: found is false for a stream without
// events. A stream that is not a task, or a task whose last event does not
// end it, fails with a *domain.ValidationError (field "task_id").
func CheckPrunable(found bool, streamType domain.StreamType, lastType domain.EventType) error {
	switch {
	case !found:
		return &domain.ValidationError{Field: "task_id", Reason: "names no stream: there is no task to prune"}
	case streamType != domain.StreamTask:
		return &domain.ValidationError{Field: "task_id", Reason: fmt.Sprintf("names a %s stream, not a task: only finished tasks are pruned", streamType)}
	case !lastType.Terminal():
		return &domain.ValidationError{Field: "task_id", Reason: fmt.Sprintf("names a task that has not finished (its last event is %s): only finished tasks are pruned", lastType)}
	}
	return nil
}
