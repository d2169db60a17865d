package eventstore

import (
	"math"
	"time"
)

// MaxTaskStartsLimit is the largest daily count of task starts a store
// keeps for one tenant. A ReserveTaskStart limit above it acts as it.
const MaxTaskStartsLimit = math.MaxInt32

// TaskStartDay returns the UTC date of t, as midnight UTC: the day under
// which the task start methods of Store count a start at t. A time at 23:30
// in UTC-3 belongs to the next UTC day.
func TaskStartDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
