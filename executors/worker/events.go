package worker

import (
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// newEvent builds an event of a task, caused by actor, at now.
func newEvent(now time.Time, actor, taskID string, payload domain.Payload) (domain.NewEvent, error) {
	b, err := domain.MarshalPayload(payload)
	if err != nil {
		return domain.NewEvent{}, err
	}
	return domain.NewEvent{
		EventID:    uuid.Must(uuid.NewV7()),
		Type:       payload.EventType(),
		Payload:    b,
		Metadata:   domain.Metadata{Actor: actor, CorrelationID: taskID},
		OccurredAt: now,
	}, nil
}

// newEvents builds the events of a decision of a task.
func newEvents(now time.Time, actor, taskID string, payloads []domain.Payload) ([]domain.NewEvent, error) {
	events := make([]domain.NewEvent, len(payloads))
	for i, p := range payloads {
		e, err := newEvent(now, actor, taskID, p)
		if err != nil {
			return nil, err
		}
		events[i] = e
	}
	return events, nil
}
