package eventstore

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// MaxBatchParts bounds the parts of one AppendBatch: the streams one
// transaction appends to.
const MaxBatchParts = 1000

// StreamAppend is one stream's part of an AppendBatch: what one Append
// would take.
type StreamAppend struct {
	Stream      Stream
	ExpectedSeq int64
	Events      []domain.NewEvent
}

// BatchAppender appends to many streams in one transaction: one commit,
// one fsync, for many streams. Both engines' stores implement it;
// eventstore/storetest.RunAppendBatch is its conformance suite.
type BatchAppender interface {
	// AppendBatch appends every part as Append would (its own expected
	// seq, chain, validation and idempotent retry), all in one
	// transaction: every part is stored or none is. It returns the stored
	// events of each part, in the order of parts. A batch whose every part
	// is already stored (a retry after an ambiguous failure) is a no-op that
	// returns the stored events. A part that cannot be stored (invalid,
	// conflicting, reusing event ids, or already stored while others are
	// not) fails the whole batch with a *BatchPartError naming the first
	// such part, wrapping what Append would have returned for it
	// (*domain.ValidationError, *ConflictError, ErrEventIDReused), and
	// writes nothing. Two parts for the same stream, no parts, or more than
	// MaxBatchParts parts fail with a *domain.ValidationError (field
	// "parts") before any I/O. Each part's events are bounded as Append's
	// are (Options.MaxAppendEvents).
	AppendBatch(ctx context.Context, parts []StreamAppend) ([][]domain.Event, error)
}

// BatchPartError reports the part of an AppendBatch that failed it.
type BatchPartError struct {
	// Index is the part's index in the batch.
	Index int
	// StreamID is the part's stream.
	StreamID string
	// Err is what Append would have returned for the part alone.
	Err error
}

func (e *BatchPartError) Error() string {
	return fmt.Sprintf("batch part %d (stream %s): %v", e.Index, e.StreamID, e.Err)
}

// Unwrap returns the part's own error.
func (e *BatchPartError) Unwrap() error { return e.Err }
