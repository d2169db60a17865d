package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// registry maps every known event type to a constructor of its payload.
var registry = map[EventType]func() any{
	TaskCreatedType:         func() any { return new(TaskCreated) },
	TaskQueuedType:          func() any { return new(TaskQueued) },
	TaskStartedType:         func() any { return new(TaskStarted) },
	TaskOutputType:          func() any { return new(TaskOutput) },
	TaskProgressType:        func() any { return new(TaskProgress) },
	TaskCancelRequestedType: func() any { return new(TaskCancelRequested) },
	TaskLeaseLostType:       func() any { return new(TaskLeaseLost) },
	TaskSucceededType:       func() any { return new(TaskSucceeded) },
	TaskFailedType:          func() any { return new(TaskFailed) },
	TaskCanceledType:        func() any { return new(TaskCanceled) },
	TaskTimedOutType:        func() any { return new(TaskTimedOut) },
}

// KnownType reports whether t is a registered event type.
func KnownType(t EventType) bool {
	_, ok := registry[t]
	return ok
}

// Decode parses an event's payload into its typed struct (a pointer, e.g.
// *TaskStarted). It fails with *UnknownEventTypeError for an unregistered
// type and rejects payloads with unknown fields.
func Decode(t EventType, payload []byte) (any, error) {
	newPayload, ok := registry[t]
	if !ok {
		return nil, &UnknownEventTypeError{Type: t}
	}
	v := newPayload()
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("decode %s payload: %w", t, err)
	}
	return v, nil
}
