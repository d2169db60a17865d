package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ErrTaskNotFound reports a task that does not exist or that belongs to
// another tenant; the two are deliberately indistinguishable.
var ErrTaskNotFound = errors.New("task not found")

// ErrTaskExists reports a StartTask whose explicit TaskID is already taken.
var ErrTaskExists = errors.New("a task with this id already exists")

// ErrCommandIDReused reports a command whose CommandID an earlier, different
// command of the same tenant already used (for example a start with other
// arguments). It is a client error: use a new id for a new operation.
var ErrCommandIDReused = errors.New("command id already used by a different command")

// TaskFinishedError reports a command on a task that has already reached a
// terminal state. errors.Is(err, domain.ErrTaskFinished) is true.
type TaskFinishedError struct {
	TaskID uuid.UUID
	// State is the task's terminal state: succeeded, failed, canceled or timed_out.
	State domain.TaskState
}

func (e *TaskFinishedError) Error() string {
	return fmt.Sprintf("task %s has already finished: its final state is %s", e.TaskID, e.State)
}

// Unwrap returns domain.ErrTaskFinished.
func (e *TaskFinishedError) Unwrap() error { return domain.ErrTaskFinished }

// taskStream names the stream of a task.
func taskStream(taskID uuid.UUID, tenantID string) eventstore.Stream {
	return eventstore.Stream{ID: taskID.String(), Type: domain.StreamTask, TenantID: tenantID}
}

// CatchUpTask applies the events of a task's stream after task.Seq() to
// task (see Load). A stream that is empty, holds no task, or belongs to
// another tenant than tenantID is ErrTaskNotFound. Calling it again on the
// same task reads only the events appended since.
func CatchUpTask(ctx context.Context, r StreamReader, taskID uuid.UUID, tenantID string, task Aggregate) error {
	if err := Load(ctx, r, taskStream(taskID, tenantID), task); err != nil {
		return err
	}
	if task.Seq() == 0 {
		return fmt.Errorf("task %s: %w", taskID, ErrTaskNotFound)
	}
	return nil
}
