package engine

import (
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateTaskStartDay checks the tenant and day arguments of the task start
// methods of eventstore.TaskStartStore before any I/O and returns the day as TaskStartDay gives
// it. Every failure is a *domain.ValidationError: an invalid tenant id
// (field "tenant_id"), or a day that is unset or whose UTC year is outside
// 0001–9999 (field "day").
func ValidateTaskStartDay(tenantID string, day time.Time) (time.Time, error) {
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return time.Time{}, err
	}
	if err := checkTime("day", day); err != nil {
		return time.Time{}, err
	}
	return eventstore.TaskStartDay(day), nil
}

// ValidateTaskStartReserve checks the arguments of eventstore.TaskStartStore.TaskStartReserve
// before any I/O, as ValidateTaskStartCount does, and a limit of at least 1
// (field "limit"). It returns the day as TaskStartDay gives it and the
// limit to apply: limit, at most MaxTaskStartsLimit.
func ValidateTaskStartReserve(tenantID string, day time.Time, n, limit int) (time.Time, int, error) {
	d, err := ValidateTaskStartCount(tenantID, day, n)
	if err != nil {
		return time.Time{}, 0, err
	}
	if limit < 1 {
		return time.Time{}, 0, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be at least 1 (a plan without task starts should refuse them before reserving)", limit)}
	}
	return d, min(limit, eventstore.MaxTaskStartsLimit), nil
}

// ValidateTaskStartCount checks the arguments of
// eventstore.TaskStartStore.TaskStartRelease before any I/O, as
// ValidateTaskStartDay does, and a count of starts n between 1 and
// MaxTaskStartsLimit (field "starts"). It returns the day as TaskStartDay
// gives it.
func ValidateTaskStartCount(tenantID string, day time.Time, n int) (time.Time, error) {
	d, err := ValidateTaskStartDay(tenantID, day)
	if err != nil {
		return time.Time{}, err
	}
	if n < 1 || n > eventstore.MaxTaskStartsLimit {
		return time.Time{}, &domain.ValidationError{Field: "starts", Reason: fmt.Sprintf("is %d; it must be between 1 and %d", n, eventstore.MaxTaskStartsLimit)}
	}
	return d, nil
}
