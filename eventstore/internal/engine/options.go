package engine

import (
	"context"

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
