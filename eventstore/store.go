package eventstore

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// Stream names the stream an append goes to. TenantID and Type must match
// the stream's existing events; a mismatch is rejected, never merged.
type Stream struct {
	ID       string
	Type     domain.StreamType
	TenantID string
}

// Store is an append-only, hash-chained event store with a global feed.
// Implementations are safe for concurrent use.
type Store interface {
	// Append atomically appends events to stream, whose last event must have
	// seq expectedSeq (0 for a new stream). It returns the stored events.
	// When the stream has moved on it fails with a *ConflictError (errors.Is
	// ErrConflict) and writes nothing. Appending events whose ids are already
	// stored, in the same stream at the same seqs, is a no-op that returns the
	// stored events (a safe retry after an ambiguous failure). Invalid input
	// fails with a *domain.ValidationError and writes nothing.
	Append(ctx context.Context, stream Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error)

	// ReadStream returns up to limit events of a stream with seq > afterSeq,
	// in seq order. An unknown stream yields no events and no error.
	ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error)

	// ReadFeed returns up to limit events of the global feed with position >=
	// from, in position order. Positions are dense (0, 1, 2 …) and follow
	// commit order; a position, once read, never changes or gets filled later.
	ReadFeed(ctx context.Context, from int64, limit int) ([]domain.Event, error)

	// FeedHead returns the number of events in the global feed: the position
	// the next sealed event will take.
	FeedHead(ctx context.Context) (int64, error)

	// WaitFeed blocks until the feed holds an event at position pos (that is,
	// FeedHead() > pos) or ctx ends. It does not busy-poll.
	WaitFeed(ctx context.Context, pos int64) error

	// Close releases the store's resources and stops its background work.
	Close() error
}
