package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// This file is the write path of every command, of the worker and of the
// watchdog: one loader (Load), one event builder (Writer.NewEvents), one
// retry policy for conflicts (Update, bounded by Writer.MaxAttempts or
// Writer.RetryFor).

// DefaultMaxAttempts is the default of Writer.MaxAttempts.
const DefaultMaxAttempts = 5

// maxIdentityEvents bounds an identity stream (tenant, user, API key,
// session) read when loading it; a session refreshed every 15 minutes for
// 30 days has about 2,900. Task streams are not bounded: output makes them long.
const maxIdentityEvents = 10_000

// Aggregate is an aggregate of package domain, rebuilt by applying its
// stream's events in order (domain.Task, domain.Tenant, …).
type Aggregate interface {
	// Apply evolves the aggregate by the stream's next event.
	Apply(domain.Event) error
	// Seq is the seq of the last event applied, 0 for none.
	Seq() int64
}

// Load applies the events of stream after agg.Seq() to agg, page by page up
// to the stream's end; calling it again reads only what was appended since.
// A stream of another type than stream.Type, or of another tenant than
// stream.TenantID (when it is set), is left alone, as a stream without
// events is: callers tell both by agg.Seq() being 0.
func Load(ctx context.Context, r StreamReader, stream eventstore.Stream, agg Aggregate) error {
	// A page shorter than a read's bound is the stream's end: no further
	// read to find it empty.
	limit := 0
	if l, ok := r.(eventstore.ReadLimiter); ok {
		limit = l.ReadLimit()
	}
	for {
		page, err := r.ReadStream(ctx, stream.ID, agg.Seq(), limit)
		if err != nil {
			return fmt.Errorf("read %s %s: %w", stream.Type, stream.ID, err)
		}
		if len(page) == 0 {
			return nil
		}
		if first := &page[0]; first.StreamType != stream.Type || (stream.TenantID != "" && first.TenantID != stream.TenantID) {
			return nil
		}
		for i := range page {
			if err := agg.Apply(page[i]); err != nil {
				return fmt.Errorf("rebuild %s %s at seq %d: %w", stream.Type, stream.ID, page[i].Seq, err)
			}
		}
		if stream.Type != domain.StreamTask && agg.Seq() > maxIdentityEvents {
			return fmt.Errorf("load %s %s: more than %d events", stream.Type, stream.ID, maxIdentityEvents)
		}
		if len(page) < limit {
			return nil
		}
	}
}

// Writer builds and appends the events that package domain decides. Its
// zero value with a Store is usable; it is safe for concurrent use.
type Writer struct {
	// Store reads and appends the streams.
	Store StreamStore
	// MaxAttempts bounds how often Update decides again after the stream
	// moved on between its read and its append (default DefaultMaxAttempts).
	MaxAttempts int
	// RetryFor, when positive, replaces MaxAttempts: Update decides again
	// until this long has passed since its first attempt, by NowFunc. It is
	// for a decision that must win against a stream that keeps moving (a
	// cancel against a task's output), where any fixed count can lose.
	RetryFor time.Duration
	// NowFunc gives the time events occur at (default time.Now).
	NowFunc func() time.Time
}

// Target is where a decision's events go and what they carry beside their
// payloads.
type Target struct {
	Stream eventstore.Stream
	// Meta is stored with every event.
	Meta domain.Metadata
	// EventIDFunc returns the id of the i-th event of an append; nil means
	// random UUIDv7s. Ids derived from a command id make a retried command
	// idempotent; they must not change between Update's attempts.
	EventIDFunc func(i int) uuid.UUID
}

// NewEvents builds the events of payloads, in order: each with its id, its
// payload as JSON (the store's append turns it into the canonical bytes it
// keeps, RFC 8785, once), to's metadata, occurring now.
func (w Writer) NewEvents(to Target, payloads []domain.Payload) ([]domain.NewEvent, error) {
	at := w.now()
	events := make([]domain.NewEvent, len(payloads))
	for i, p := range payloads {
		e, err := to.newEvent(i, p, at)
		if err != nil {
			return nil, err
		}
		events[i] = e
	}
	return events, nil
}

// NewEvent builds the one event of payload, as NewEvents does: the
// worker's output path builds its events one at a time.
func (w Writer) NewEvent(to Target, payload domain.Payload) (domain.NewEvent, error) {
	return to.newEvent(0, payload, w.now())
}

func (w Writer) now() time.Time {
	if w.NowFunc != nil {
		return w.NowFunc()
	}
	return time.Now()
}

// newEvent builds the i-th event of an append to to, of payload, at at.
func (to Target) newEvent(i int, payload domain.Payload, at time.Time) (domain.NewEvent, error) {
	body, err := domain.MarshalPayload(payload)
	if err != nil {
		return domain.NewEvent{}, err
	}
	id, err := to.eventID(i)
	if err != nil {
		return domain.NewEvent{}, err
	}
	return domain.NewEvent{EventID: id, Type: payload.EventType(), Payload: body, Metadata: to.Meta, OccurredAt: at}, nil
}

func (to Target) eventID(i int) (uuid.UUID, error) {
	if to.EventIDFunc != nil {
		return to.EventIDFunc(i), nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("new event id: %w", err)
	}
	return id, nil
}

// Append builds the events of payloads and appends them to to.Stream at
// expectedSeq, once: a conflict is the caller's to handle (errors.Is
// eventstore.ErrConflict). It is for the first events of a new stream and
// for appends whose conflicts mean something else than "decide again".
func (w Writer) Append(ctx context.Context, to Target, expectedSeq int64, payloads ...domain.Payload) ([]domain.Event, error) {
	if len(payloads) == 0 {
		return nil, &domain.ValidationError{Field: "events", Reason: "an append needs at least one event"}
	}
	events, err := w.NewEvents(to, payloads)
	if err != nil {
		return nil, err
	}
	stored, err := w.Store.Append(ctx, to.Stream, expectedSeq, events)
	if err != nil {
		return nil, fmt.Errorf("append %s to %s %s: %w", events[0].Type, to.Stream.Type, to.Stream.ID, err)
	}
	return stored, nil
}

// Update lets decide pick the events that follow on agg, appends them at
// agg.Seq() and applies the stored events to agg, which it returns. It
// decides on agg as it is: Load it first, or pass one kept current. When
// the stream moved on meanwhile (a conflict, or an event id of the
// decision stored already), it loads what changed and decides again, up to
// w.MaxAttempts times in all, or for w.RetryFor when that is set; then it
// fails with an error matching eventstore.ErrConflict, and the caller may
// try again. A decision of no events, or an error, ends it with nothing
// appended.
func Update[A Aggregate](ctx context.Context, w Writer, to Target, agg A, decide func(A) ([]domain.Payload, error)) ([]domain.Event, error) {
	first := w.now()
	for attempts := 1; ; attempts++ {
		decided, err := decide(agg)
		if err != nil || len(decided) == 0 {
			return nil, err
		}
		stored, err := w.Append(ctx, to, agg.Seq(), decided...)
		if errors.Is(err, eventstore.ErrConflict) || errors.Is(err, eventstore.ErrEventIDReused) {
			if !w.mayRetry(attempts, first) {
				if !errors.Is(err, eventstore.ErrConflict) {
					err = fmt.Errorf("%w: %w", eventstore.ErrConflict, err)
				}
				return nil, fmt.Errorf("%s %s changed during each of %d attempts; try again: %w", to.Stream.Type, to.Stream.ID, attempts, err)
			}
			if err := Load(ctx, w.Store, to.Stream, agg); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range stored {
			if err := agg.Apply(e); err != nil {
				return stored, fmt.Errorf("%s %s: apply the stored %s: %w", to.Stream.Type, to.Stream.ID, e.Type, err)
			}
		}
		return stored, nil
	}
}

// mayRetry reports whether Update may decide again after attempts that all
// conflicted, the first of them at first.
func (w Writer) mayRetry(attempts int, first time.Time) bool {
	switch {
	case w.RetryFor > 0:
		return w.now().Sub(first) < w.RetryFor
	case w.MaxAttempts > 0:
		return attempts < w.MaxAttempts
	}
	return attempts < DefaultMaxAttempts
}
