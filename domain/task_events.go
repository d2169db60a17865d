package domain

import "encoding/json"

// Payload structs list their fields in the order RFC 8785 sorts their JSON
// names, so that MarshalPayload writes canonical bytes and the event store
// takes its fast path (integrity.CanonicalPayload).

// OutputStream says which of a process's output streams a chunk came from.
type OutputStream string

// Output streams of task.output.
const (
	Stdout OutputStream = "stdout"
	Stderr OutputStream = "stderr"
)

// TaskCreated is the first event of a task stream. OnInterrupt and Retry
// are there when the start asked for them (Retry with its defaults filled
// in); a task created without them, before they existed too, runs once
// and is queued again when its worker dies.
type TaskCreated struct {
	Adapter     string          `json:"adapter"`
	Args        json.RawMessage `json:"args"`
	Name        string          `json:"name"`
	OnInterrupt OnInterrupt     `json:"on_interrupt,omitempty"`
	Retry       *RetryPolicy    `json:"retry,omitempty"`
	TimeoutS    int             `json:"timeout_s"`
}

// EventType returns TaskCreatedType.
func (TaskCreated) EventType() EventType { return TaskCreatedType }

// TaskQueued puts a task up for a worker to claim; Attempt counts from 1.
// NotBefore, when set (a retry after a failed attempt waits its backoff),
// is the time (FormatTime) before which no worker may claim it.
type TaskQueued struct {
	Attempt   int    `json:"attempt"`
	NotBefore string `json:"not_before,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// EventType returns TaskQueuedType.
func (TaskQueued) EventType() EventType { return TaskQueuedType }

// TaskStarted records the one claim that won for an attempt.
type TaskStarted struct {
	Attempt  int    `json:"attempt"`
	WorkerID string `json:"worker_id"`
}

// EventType returns TaskStartedType.
func (TaskStarted) EventType() EventType { return TaskStartedType }

// TaskOutput is a chunk of a process's output; Offset is the byte offset of
// Data within that output stream.
type TaskOutput struct {
	Data   string       `json:"data"`
	Offset int64        `json:"offset"`
	Stream OutputStream `json:"stream"`
}

// EventType returns TaskOutputType.
func (TaskOutput) EventType() EventType { return TaskOutputType }

// TaskProgress reports how far a task has come.
type TaskProgress struct {
	Message string  `json:"message,omitempty"`
	Percent float64 `json:"percent"`
}

// EventType returns TaskProgressType.
func (TaskProgress) EventType() EventType { return TaskProgressType }

// TaskCancelRequested asks the worker running a task to stop it.
type TaskCancelRequested struct {
	Reason string `json:"reason,omitempty"`
}

// EventType returns TaskCancelRequestedType.
func (TaskCancelRequested) EventType() EventType { return TaskCancelRequestedType }

// TaskLeaseLost records that a worker stopped renewing its lease.
type TaskLeaseLost struct {
	Attempt  int    `json:"attempt"`
	WorkerID string `json:"worker_id"`
}

// EventType returns TaskLeaseLostType.
func (TaskLeaseLost) EventType() EventType { return TaskLeaseLostType }

// TaskAttemptFailed records that an attempt failed and that the task's
// retry policy runs it again: task.queued for the next attempt, due after
// its backoff, follows in the same append. ExitCode is nil when no process
// exited.
type TaskAttemptFailed struct {
	Attempt  int    `json:"attempt"`
	Error    string `json:"error"`
	ExitCode *int   `json:"exit_code,omitempty"`
	WorkerID string `json:"worker_id"`
}

// EventType returns TaskAttemptFailedType.
func (TaskAttemptFailed) EventType() EventType { return TaskAttemptFailedType }

// TaskSucceeded ends a task that exited successfully.
type TaskSucceeded struct {
	ExitCode int    `json:"exit_code"`
	Summary  string `json:"summary,omitempty"`
}

// EventType returns TaskSucceededType.
func (TaskSucceeded) EventType() EventType { return TaskSucceededType }

// TaskFailed ends a task that failed; ExitCode is nil when no process exited.
type TaskFailed struct {
	Error    string `json:"error"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// EventType returns TaskFailedType.
func (TaskFailed) EventType() EventType { return TaskFailedType }

// TaskCanceled ends a canceled task.
type TaskCanceled struct {
	Reason string `json:"reason,omitempty"`
}

// EventType returns TaskCanceledType.
func (TaskCanceled) EventType() EventType { return TaskCanceledType }

// TaskTimedOut ends a task that ran past its timeout.
type TaskTimedOut struct {
	TimeoutS int `json:"timeout_s"`
}

// EventType returns TaskTimedOutType.
func (TaskTimedOut) EventType() EventType { return TaskTimedOutType }

// TaskWaiting says why a queued task has not started: Reason, for people.
// The task stays queued and starts when a slot frees.
type TaskWaiting struct {
	Reason string `json:"reason"`
}

// EventType returns TaskWaitingType.
func (TaskWaiting) EventType() EventType { return TaskWaitingType }
