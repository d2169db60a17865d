package eventstore

import (
	"context"
	"math"
	"time"
)

// MaxTaskStartsLimit is the largest daily count of task starts a store
// keeps for one tenant. A TaskStartReserve limit above it acts as it.
const MaxTaskStartsLimit = math.MaxInt32

// TaskStartDay returns the UTC date of t, as midnight UTC: the day under
// which TaskStartStore counts a start at t. A time at 23:30 in UTC-3
// belongs to the next UTC day.
func TaskStartDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// TaskStartStore counts each tenant's task starts per UTC day, for the
// plans' daily quotas: one port of the operational state beside the log
// (see Store), not events. Both engines' stores implement it;
// eventstore/storetest.RunTaskStarts is its conformance suite. Invalid
// arguments fail with a *domain.ValidationError before any I/O: an invalid
// tenant id (field "tenant_id"), or a day that is unset or whose UTC year is
// outside 0001–9999 (field "day").
type TaskStartStore interface {
	// TaskStartReserve counts one task start of tenantID on day, unless the
	// day's count has reached limit: it atomically increments the count
	// when it is below limit and returns the new count and ok true;
	// otherwise it changes nothing and returns the current count and ok
	// false. Days are UTC dates: day counts as TaskStartDay(day), whatever
	// its location. Reservations are exact across goroutines and processes
	// sharing the store: of N concurrent calls on a day at count 0, exactly
	// min(N, limit) succeed. The count a refusal returns is read after the
	// refusal, so a concurrent TaskStartRelease may have lowered it below
	// limit. Call TaskStartRelease when a reserved start does not happen. A
	// limit below 1 fails with a *domain.ValidationError (field "limit")
	// and writes nothing; a limit above MaxTaskStartsLimit acts as
	// MaxTaskStartsLimit.
	TaskStartReserve(ctx context.Context, tenantID string, day time.Time, limit int) (used int, ok bool, err error)

	// TaskStartRelease gives back a start that TaskStartReserve reserved
	// on day but that did not happen: it decrements the day's count, never
	// below 0. A day without starts is left alone (no error). It is not
	// idempotent: release each reservation once.
	TaskStartRelease(ctx context.Context, tenantID string, day time.Time) error

	// TaskStartCount returns the count of tenantID's task starts on day
	// (its UTC date): 0 for a day without starts. It sees every
	// TaskStartReserve and TaskStartRelease call that has returned.
	TaskStartCount(ctx context.Context, tenantID string, day time.Time) (int, error)
}
