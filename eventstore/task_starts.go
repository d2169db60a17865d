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
// tenant id (field "tenant_id"), a day that is unset or whose UTC year is
// outside 0001–9999 (field "day"), or a count of starts below 1 or above
// MaxTaskStartsLimit (field "starts").
type TaskStartStore interface {
	// TaskStartReserve counts n task starts of tenantID on day (a batch of
	// starts, or 1), all or none: it atomically adds n to the day's count
	// when the sum stays within limit and returns the new count and ok
	// true; otherwise it changes nothing and returns the current count and
	// ok false, so that limit - used starts would still fit. Days are UTC
	// dates: day counts as TaskStartDay(day), whatever its location.
	// Reservations are exact across goroutines and processes sharing the
	// store: of N concurrent calls of n 1 on a day at count 0, exactly
	// min(N, limit) succeed. The count a refusal returns is read after the
	// refusal, so a concurrent TaskStartRelease may have lowered it. Call
	// TaskStartRelease with the same n when reserved starts do not happen.
	// A limit below 1 fails with a *domain.ValidationError (field "limit")
	// and writes nothing; a limit above MaxTaskStartsLimit acts as
	// MaxTaskStartsLimit.
	TaskStartReserve(ctx context.Context, tenantID string, day time.Time, n, limit int) (used int, ok bool, err error)

	// TaskStartRelease gives back n starts that TaskStartReserve reserved
	// on day but that did not happen: it lowers the day's count by n, never
	// below 0. A day without starts is left alone (no error). It is not
	// idempotent: release each reservation once.
	TaskStartRelease(ctx context.Context, tenantID string, day time.Time, n int) error

	// TaskStartCount returns the count of tenantID's task starts on day
	// (its UTC date): 0 for a day without starts. It sees every
	// TaskStartReserve and TaskStartRelease call that has returned.
	TaskStartCount(ctx context.Context, tenantID string, day time.Time) (int, error)
}
