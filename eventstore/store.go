package eventstore

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// Stream names the stream an append goes to. TenantID and Type must match
// the stream's existing events; a mismatch is rejected, never merged.
type Stream struct {
	ID       string
	Type     domain.StreamType
	TenantID string
}

// Validate checks a stream reference before any I/O: every failure is a
// *domain.ValidationError naming the field.
func (s Stream) Validate() error {
	if err := domain.ValidateIdentifier("stream_id", s.ID); err != nil {
		return err
	}
	if !s.Type.Valid() {
		return &domain.ValidationError{Field: "stream_type", Reason: fmt.Sprintf("%q is not a known stream type", string(s.Type))}
	}
	return domain.ValidateIdentifier("tenant_id", s.TenantID)
}

// Store is the event log: append-only, hash-chained streams and a dense
// global feed in commit order. It is the only source of truth; everything
// else is derived from it or kept beside it. Implementations are safe for
// concurrent use.
//
// Store stays this small on purpose. Operational state kept beside the log
// in the same database (leases, task-start quotas, API key usage, the
// waiting list, pruning, the Merkle tree) has a port of its own (LeaseStore,
// TaskStartStore, APIKeyUsageStore, WaitingStore, PruneStore, MerkleStore),
// and queries over a read model go through that projection's store
// (package projections). To add a capability (webhook deliveries, usage
// counters),
// declare a new port beside these: an interface in a file of its own whose
// methods are named noun first (WebhookDeliveryPut, not PutWebhookDelivery),
// a conformance suite for it in eventstore/storetest (a Run function that
// each engine's tests call), its queries in sql/<engine>/queries, and the
// methods on both engines' concrete stores. Never add methods here for it:
// consumers declare the ports they need and wiring passes the concrete
// store to each.
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
	// The events' byte slices may be shared with the process's other feed
	// readers (Options.FeedCacheEvents): read them, never modify them.
	ReadFeed(ctx context.Context, from int64, limit int) ([]domain.Event, error)

	// FeedHead returns the number of events in the global feed: the position
	// the next sealed event will take.
	FeedHead(ctx context.Context) (int64, error)

	// WaitFeed blocks until the feed holds an event at position pos (that is,
	// FeedHead() > pos) or ctx ends. It does not busy-poll.
	WaitFeed(ctx context.Context, pos int64) error

	// ListStreams returns the ids of tenantID's streams of streamType, in
	// ascending byte order of id, strictly after afterStreamID ("" for the
	// first page): at most limit ids (DefaultListStreamsLimit for a limit
	// <= 0; a limit above MaxListStreamsLimit is an error). A stream is
	// listed as soon as the Append that created it has returned, before the
	// feed positions it. It is meant for a tenant's small streams (API keys,
	// users, webhooks); task streams are refused (list them through the task
	// list projection). Invalid arguments, task streams included, fail with
	// a *domain.ValidationError.
	ListStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error)

	// Close releases the store's resources and stops its background work.
	Close() error
}
