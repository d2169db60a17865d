package engine

import (
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateListStreams checks the arguments of Store.ListStreams before any
// I/O and returns the page size to read: limit, or DefaultListStreamsLimit
// for a limit <= 0. Every failure is a *domain.ValidationError; task streams
// are refused (they are listed through the task list projection, and an
// index of them would be as large as the events table).
func ValidateListStreams(tenantID string, streamType domain.StreamType, afterStreamID string, limit int) (int, error) {
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return 0, err
	}
	if !streamType.Valid() {
		return 0, &domain.ValidationError{Field: "stream_type", Reason: fmt.Sprintf("%q is not a known stream type", string(streamType))}
	}
	if streamType == domain.StreamTask {
		return 0, &domain.ValidationError{Field: "stream_type", Reason: "task streams are not listed by the event store: list tasks through the task list (projections.TaskViewStore)"}
	}
	if afterStreamID != "" {
		if err := domain.ValidateIdentifier("after_stream_id", afterStreamID); err != nil {
			return 0, err
		}
	}
	switch {
	case limit <= 0:
		return eventstore.DefaultListStreamsLimit, nil
	case limit > eventstore.MaxListStreamsLimit:
		return 0, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; at most %d streams are listed at once, page with after_stream_id", limit, eventstore.MaxListStreamsLimit)}
	}
	return limit, nil
}
