package engine

import (
	"context"
	"math"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ClampLimit bounds a read limit to [1, o.MaxReadLimit]: 0 or less, or
// more than the bound, reads o.MaxReadLimit.
func ClampLimit(o eventstore.Options, limit int) int {
	if limit <= 0 || limit > o.MaxReadLimit {
		return o.MaxReadLimit
	}
	return limit
}

// FeedReadLimit checks a read of the feed from position from and returns
// its limit, clamped as ClampLimit clamps it: 0 when from lies so far past
// any position the feed can reach that from+limit would overflow, so that
// there is nothing to read. A negative from is a *domain.ValidationError.
func FeedReadLimit(o eventstore.Options, from int64, limit int) (int, error) {
	if from < 0 {
		return 0, &domain.ValidationError{Field: "from", Reason: "must not be negative"}
	}
	limit = ClampLimit(o, limit)
	if from > math.MaxInt64-int64(limit) {
		return 0, nil
	}
	return limit, nil
}

// NotifyCommitted calls o's Committed hook, if any, with the events an
// append has just committed.
func NotifyCommitted(ctx context.Context, o eventstore.Options, events []domain.Event) {
	if o.Committed != nil && len(events) > 0 {
		o.Committed(ctx, events)
	}
}

// ObserveCommit calls o's ObserveCommitFunc, if any, for one committed
// transaction of appends.
func ObserveCommit(o eventstore.Options, appends, events int) {
	if o.ObserveCommitFunc != nil && appends > 0 {
		o.ObserveCommitFunc(appends, events)
	}
}
