package domain

import (
	"errors"
	"fmt"
)

// ValidationError says which field of an input is wrong and how to fix it.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + " " + e.Reason
}

// UnknownEventTypeError is returned when an event's type is not registered,
// for example an event written by a newer version of AxonTask.
type UnknownEventTypeError struct {
	Type EventType
}

func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("unknown event type %q: this build does not know it; upgrade AxonTask or check the event's origin", string(e.Type))
}

// TransitionError is returned when an event may not follow the aggregate's current state.
type TransitionError struct {
	From  TaskState
	Event EventType
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("event %s is not allowed in task state %s", e.Event, e.From)
}

// ErrTaskFinished is returned for commands on a task that has already ended.
var ErrTaskFinished = errors.New("task has already finished")
