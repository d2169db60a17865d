package eventstore

import (
	"context"
	"fmt"
	"time"

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

	// TouchAPIKeys records when API keys were last used: for each key id of
	// uses, the later of its stored time and the given one (a time never
	// moves backwards, so concurrent and out-of-order calls converge on the
	// latest use). Times are kept in UTC with microsecond precision. This is
	// operational state beside the log, not events: it is in no hash chain
	// and no feed, and no projection rebuilds it. All of uses is written in
	// one round trip and one transaction; an empty map writes nothing. More
	// than MaxTouchAPIKeys entries, an invalid key id or an unset time fail
	// with a *domain.ValidationError (field "uses") and write nothing.
	// Callers should batch uses and call it every few seconds, not once per
	// request.
	TouchAPIKeys(ctx context.Context, uses map[string]time.Time) error

	// APIKeysLastUsed returns the stored last use (UTC, microseconds) of
	// each of keyIDs that TouchAPIKeys has recorded; keys never recorded are
	// absent from the map. It sees every TouchAPIKeys call that has
	// returned. More than MaxAPIKeysLastUsed ids or an invalid id fail with
	// a *domain.ValidationError.
	APIKeysLastUsed(ctx context.Context, keyIDs []string) (map[string]time.Time, error)

	// ReserveTaskStart counts one task start of tenantID on day, unless the
	// day's count has reached limit: it atomically increments the count when
	// it is below limit and returns the new count and ok true; otherwise it
	// changes nothing and returns the current count and ok false. Days are
	// UTC dates: day counts as TaskStartDay(day), whatever its location.
	// Reservations are exact across goroutines and processes sharing the
	// store: of N concurrent calls on a day at count 0, exactly min(N, limit)
	// succeed. The count a refusal returns is read after the refusal, so a
	// concurrent ReleaseTaskStart may have lowered it below limit. Call
	// ReleaseTaskStart when a reserved start does not happen. Like
	// TouchAPIKeys this is operational state, not events. A limit below 1,
	// an invalid tenant id or an unset day fail with a
	// *domain.ValidationError (see ValidateReserveTaskStart) and write
	// nothing; a limit above MaxTaskStartsLimit acts as MaxTaskStartsLimit.
	ReserveTaskStart(ctx context.Context, tenantID string, day time.Time, limit int) (used int, ok bool, err error)

	// ReleaseTaskStart gives back a start that ReserveTaskStart reserved on
	// day but that did not happen: it decrements the day's count, never
	// below 0. A day without starts is left alone (no error). It is not
	// idempotent: release each reservation once. Invalid arguments fail with
	// a *domain.ValidationError (see ValidateTaskStartDay).
	ReleaseTaskStart(ctx context.Context, tenantID string, day time.Time) error

	// TaskStartsUsed returns the count of tenantID's task starts on day (its
	// UTC date): 0 for a day without starts. It sees every ReserveTaskStart
	// and ReleaseTaskStart call that has returned. Invalid arguments fail
	// with a *domain.ValidationError (see ValidateTaskStartDay).
	TaskStartsUsed(ctx context.Context, tenantID string, day time.Time) (int, error)

	// WaitingStore remembers the queued tasks that wait for a slot of
	// their tenant's concurrency limit (operational state, not events),
	// and finds queued tasks whose work message may have been lost.
	WaitingStore

	// RetentionStore prunes the payloads of finished tasks once their
	// plan's retention has passed; their chains still verify.
	RetentionStore

	// Close releases the store's resources and stops its background work.
	Close() error
}
