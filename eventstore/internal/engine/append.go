package engine

import (
	"fmt"

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

// CheckOwner rejects an append whose tenant or stream type differs from the
// stream's stored events. It does not reveal the stream's tenant.
func CheckOwner(stream eventstore.Stream, tenantID string, streamType domain.StreamType) error {
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
	if !SameEvents(stream.ID, expectedSeq, events, stored) {
		e := stored[0]
		if e.StreamID != stream.ID {
			return nil, fmt.Errorf("event %s is stored in another stream: %w", e.EventID, eventstore.ErrEventIDReused)
		}
		return nil, fmt.Errorf("event %s is stored at seq %d, not as part of this append: %w", e.EventID, e.Seq, eventstore.ErrEventIDReused)
	}
	// The same stream, so the same owner, unless the retry names another.
	if err := CheckOwner(stream, stored[0].TenantID, stored[0].StreamType); err != nil {
		return nil, err
	}
	return stored, nil
}

// SameEvents reports whether stored holds exactly the events of an append
// retry: the same ids in the same stream at consecutive seqs after expectedSeq.
func SameEvents(streamID string, expectedSeq int64, events []domain.NewEvent, stored []domain.Event) bool {
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
