package commands

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// EventAppender appends events to a stream, as eventstore.Store.Append does:
// atomically, at an expected seq, idempotently for event ids already stored.
type EventAppender interface {
	Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error)
}

// StreamReader reads a stream's events in seq order, as
// eventstore.Store.ReadStream does: an unknown stream yields no events.
type StreamReader interface {
	ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error)
}

// StreamStore reads and appends streams (eventstore.Store has it).
type StreamStore interface {
	StreamReader
	EventAppender
}

// idNamespace is the UUIDv5 namespace of the ids derived from a CommandID.
// It must never change: a retry must derive the ids of the first try, also
// across versions of AxonTask.
var idNamespace = uuid.MustParse("a79b6b54-fa45-4812-9413-b9c19cf2b7cb")

// derivedID returns the UUIDv5 of parts joined by NUL. Callers pass parts
// checked by domain.ValidateIdentifier (no control characters), so the join
// is unambiguous.
func derivedID(parts ...string) uuid.UUID {
	return uuid.NewSHA1(idNamespace, []byte(strings.Join(parts, "\x00")))
}

// withCausation returns the metadata of a command's events: meta, with the
// causation id set to the command's id when it has one.
func withCausation(meta domain.Metadata, commandID string) domain.Metadata {
	if commandID != "" {
		meta.CausationID = commandID
	}
	return meta
}

// validateCommandID checks an optional CommandID: empty, or an identifier.
func validateCommandID(commandID string) error {
	if commandID == "" {
		return nil
	}
	return domain.ValidateIdentifier("command_id", commandID)
}
