package worker

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// loadTask rebuilds a task from its stream and returns its task.created
// payload too (nil if that payload was pruned).
func loadTask(ctx context.Context, store commands.StreamReader, taskID uuid.UUID, tenantID string) (*domain.Task, *domain.TaskCreated, error) {
	var task domain.Task
	var created *domain.TaskCreated
	visit := func(e *domain.Event) {
		if e.Type == domain.TaskCreatedType {
			if p, err := domain.Decode(e.Type, e.Payload); err == nil {
				created = p.(*domain.TaskCreated)
			}
		}
	}
	if err := commands.CatchUpTask(ctx, store, taskID, tenantID, &task, visit); err != nil {
		return nil, nil, err
	}
	return &task, created, nil
}

// newEvent builds an event of a task, caused by actor, at now.
func newEvent(now time.Time, actor, taskID string, typ domain.EventType, payload any) (domain.NewEvent, error) {
	b, err := domain.MarshalPayload(payload)
	if err != nil {
		return domain.NewEvent{}, err
	}
	return domain.NewEvent{
		EventID:    uuid.Must(uuid.NewV7()),
		Type:       typ,
		Payload:    b,
		Metadata:   domain.Metadata{Actor: actor, CorrelationID: taskID},
		OccurredAt: now,
	}, nil
}

// leaseLostThen builds the two events that take an attempt away from its
// worker: task.lease_lost, then next (a re-queue or an ending).
func leaseLostThen(now time.Time, actor, taskID, workerID string, attempt int, next domain.EventType, payload any) ([]domain.NewEvent, error) {
	lost, err := newEvent(now, actor, taskID, domain.TaskLeaseLostType, domain.TaskLeaseLost{Attempt: attempt, WorkerID: workerID})
	if err != nil {
		return nil, err
	}
	then, err := newEvent(now, actor, taskID, next, payload)
	if err != nil {
		return nil, err
	}
	return []domain.NewEvent{lost, then}, nil
}
