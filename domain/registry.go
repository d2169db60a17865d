package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
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

// MarshalPayload renders a payload struct as JSON without HTML escaping.
// For the payload types of this package the bytes are RFC 8785 canonical
// whenever the values are (integers, strings without U+2028/U+2029), which
// lets the store skip re-canonicalizing them.
func MarshalPayload(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("marshal payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Samples returns one example payload of every registered event type, for
// tests that must cover them all.
func Samples() map[EventType]any {
	exit := 2
	return map[EventType]any{
		TaskCreatedType:         &TaskCreated{Adapter: "shell", Args: json.RawMessage(`{"command":["make","test"]}`), Name: "tests", TimeoutS: 600},
		TaskQueuedType:          &TaskQueued{Attempt: 1, Reason: "created"},
		TaskStartedType:         &TaskStarted{Attempt: 1, WorkerID: "worker-1"},
		TaskOutputType:          &TaskOutput{Data: "ok <pkg> & done\n", Offset: 120, Stream: Stdout},
		TaskProgressType:        &TaskProgress{Message: "building", Percent: 40},
		TaskCancelRequestedType: &TaskCancelRequested{Reason: "user asked"},
		TaskLeaseLostType:       &TaskLeaseLost{Attempt: 1, WorkerID: "worker-1"},
		TaskSucceededType:       &TaskSucceeded{ExitCode: 0, Summary: "all passed"},
		TaskFailedType:          &TaskFailed{Error: "exit status 2", ExitCode: &exit},
		TaskCanceledType:        &TaskCanceled{Reason: "user asked"},
		TaskTimedOutType:        &TaskTimedOut{TimeoutS: 600},
	}
}

// KnownType reports whether t is a registered event type.
func KnownType(t EventType) bool {
	_, ok := registry[t]
	return ok
}

// KnownTypes returns every registered event type, sorted.
func KnownTypes() []EventType {
	out := make([]EventType, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
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
