package engine

import (
	"context"
	"fmt"

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

// StreamHeads checks the stream ids of a StreamHeads call, reads the rows
// of their last seqs with read (streams without events have none), and
// answers the seqs (head of each row) in the ids' order, 0 for a stream
// without events.
func StreamHeads[R any](streamIDs []string, read func() ([]R, error), head func(R) (string, int64)) ([]int64, error) {
	if len(streamIDs) > eventstore.MaxStreamHeads {
		return nil, &domain.ValidationError{Field: "stream_ids", Reason: fmt.Sprintf("at most %d streams at once, not %d", eventstore.MaxStreamHeads, len(streamIDs))}
	}
	if len(streamIDs) == 0 {
		return nil, nil
	}
	rows, err := read()
	if err != nil {
		return nil, err
	}
	seqs := make(map[string]int64, len(rows))
	for _, r := range rows {
		id, seq := head(r)
		seqs[id] = seq
	}
	out := make([]int64, len(streamIDs))
	for i, id := range streamIDs {
		out[i] = seqs[id]
	}
	return out, nil
}
