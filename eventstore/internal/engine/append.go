package engine

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateAppend checks an append's stream reference and expected seq
// before any I/O. (A negative seq would otherwise read as a conflict.)
func ValidateAppend(s eventstore.Stream, expectedSeq int64) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if expectedSeq < 0 {
		return &domain.ValidationError{Field: "expected_seq", Reason: "must not be negative"}
	}
	return nil
}

// Head is a stream's last event as an append needs it: the seq and hash the
// next event chains to, and the owner that every later event must match. The
// zero Head is the head of a stream without events.
type Head struct {
	Seq        int64
	Hash       domain.Hash
	TenantID   string
	StreamType domain.StreamType
}

// CheckHead decides, before any write, whether an append at expectedSeq may
// go on against the stream's head, in the contract's order: a retry of an
// append that did commit first (a no-op, not a conflict), then the stream's
// owner (before a conflict, which would tell another tenant the stream's
// seq), then the expected seq. retried looks the append's event ids up, as
// Retried answers them, and is called only when the head is not at
// expectedSeq. CheckHead returns the stored events of a committed retry, or
// the error that refuses the append, or (nil, nil) when the append may go on.
func CheckHead(stream eventstore.Stream, expectedSeq int64, head Head, retried func() ([]domain.Event, error)) ([]domain.Event, error) {
	if head.Seq != expectedSeq {
		if stored, err := retried(); stored != nil || err != nil {
			return stored, err
		}
	}
	if head.Seq > 0 {
		if err := checkOwner(stream, head.TenantID, head.StreamType); err != nil {
			return nil, err
		}
	}
	if head.Seq != expectedSeq {
		return nil, &eventstore.ConflictError{StreamID: stream.ID, Expected: expectedSeq, Actual: head.Seq}
	}
	return nil, nil
}

// checkOwner rejects an append whose tenant or stream type differs from the
// stream's stored events. It does not reveal the stream's tenant.
func checkOwner(stream eventstore.Stream, tenantID string, streamType domain.StreamType) error {
	if stream.TenantID != tenantID {
		return &domain.ValidationError{Field: "tenant_id", Reason: "does not match the tenant of the stream's existing events"}
	}
	if stream.Type != streamType {
		return &domain.ValidationError{Field: "stream_type", Reason: fmt.Sprintf("is %q but the stream holds %q events", stream.Type, streamType)}
	}
	return nil
}

// Retried answers an append whose event ids are already stored (stored
// non-empty): the stored events when they are this very append, committed
// before, and ErrEventIDReused otherwise.
func Retried(stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent, stored []domain.Event) ([]domain.Event, error) {
	if !sameEvents(stream.ID, expectedSeq, events, stored) {
		e := stored[0]
		if e.StreamID != stream.ID {
			return nil, fmt.Errorf("event %s is stored in another stream: %w", e.EventID, eventstore.ErrEventIDReused)
		}
		return nil, fmt.Errorf("event %s is stored at seq %d, not as part of this append: %w", e.EventID, e.Seq, eventstore.ErrEventIDReused)
	}
	// The same stream, so the same owner, unless the retry names another.
	if err := checkOwner(stream, stored[0].TenantID, stored[0].StreamType); err != nil {
		return nil, err
	}
	return stored, nil
}

// sameEvents reports whether stored holds exactly the events of an append
// retry: the same ids in the same stream at consecutive seqs after expectedSeq.
func sameEvents(streamID string, expectedSeq int64, events []domain.NewEvent, stored []domain.Event) bool {
	if len(events) == 0 || len(stored) != len(events) {
		return false
	}
	for i, e := range stored {
		if e.EventID != events[i].EventID || e.StreamID != streamID || e.Seq != expectedSeq+int64(i)+1 {
			return false
		}
	}
	return true
}

// ValidateBatch checks the shape of an AppendBatch before any I/O: at
// least one part, at most eventstore.MaxBatchParts, each stream once, and
// each part's stream and expected seq as ValidateAppend checks them (a
// failure there names the part).
func ValidateBatch(parts []eventstore.StreamAppend) error {
	switch {
	case len(parts) == 0:
		return &domain.ValidationError{Field: "parts", Reason: "is empty; give at least one stream's events"}
	case len(parts) > eventstore.MaxBatchParts:
		return &domain.ValidationError{Field: "parts", Reason: fmt.Sprintf("has %d parts; the limit is %d: split the batch", len(parts), eventstore.MaxBatchParts)}
	}
	streams := make(map[string]int, len(parts))
	eventIDs := make(map[uuid.UUID]int, len(parts))
	for i, p := range parts {
		if j, dup := streams[p.Stream.ID]; dup {
			return &domain.ValidationError{Field: "parts", Reason: fmt.Sprintf("parts %d and %d both append to stream %s; give each stream one part", j, i, p.Stream.ID)}
		}
		streams[p.Stream.ID] = i
		if err := ValidateAppend(p.Stream, p.ExpectedSeq); err != nil {
			return &eventstore.BatchPartError{Index: i, StreamID: p.Stream.ID, Err: err}
		}
		for _, e := range p.Events {
			if j, dup := eventIDs[e.EventID]; dup && j != i {
				return &domain.ValidationError{Field: "parts", Reason: fmt.Sprintf("parts %d and %d both hold event %s; every event needs an id of its own", j, i, e.EventID)}
			}
			eventIDs[e.EventID] = i
		}
	}
	return nil
}
