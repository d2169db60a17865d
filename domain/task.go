package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// TaskState is where a task is in its lifecycle (docs/api.md).
type TaskState string

// Task states. "new" is the state of a stream with no events yet.
const (
	StateNew       TaskState = "new"
	StateCreated   TaskState = "created"
	StateQueued    TaskState = "queued"
	StateRunning   TaskState = "running"
	StateSucceeded TaskState = "succeeded"
	StateFailed    TaskState = "failed"
	StateCanceled  TaskState = "canceled"
	StateTimedOut  TaskState = "timed_out"
)

// Terminal reports whether no event may follow a task in state s.
func (s TaskState) Terminal() bool {
	switch s {
	case StateSucceeded, StateFailed, StateCanceled, StateTimedOut:
		return true
	case StateNew, StateCreated, StateQueued, StateRunning:
		return false
	}
	return false // not a state
}

// Task is the task aggregate, rebuilt by applying its stream's events in
// order. The zero value is a task whose stream is empty.
type Task struct {
	state           TaskState
	seq             int64
	attempt         int
	workerID        string
	cancelRequested bool
	// released: no worker holds the current attempt any more (its lease
	// was lost, or it failed and the task is about to be queued again).
	released bool
	// failedAttempts counts task.attempt_failed: the attempts that are not
	// counted as interrupted.
	failedAttempts int
	// lastFailedAttempt is the attempt of the latest task.attempt_failed.
	lastFailedAttempt int
	notBefore         time.Time
	retry             *RetryPolicy // nil: run once
	onInterrupt       OnInterrupt
	timeoutS          int
	adapter           Adapter
	args              string // kept as a string so that a Task stays comparable
	waitingReason     string
	outputBytes       int64
	outputEvents      int64
	createdAt         time.Time
	queuedAt          time.Time
	startedAt         time.Time
	endedAt           time.Time
}

// State returns the task's lifecycle state.
func (t *Task) State() TaskState {
	if t.state == "" {
		return StateNew
	}
	return t.state
}

// Seq returns the seq of the last applied event (0 for an empty stream); it is
// the expected seq for the next append.
func (t *Task) Seq() int64 { return t.seq }

// Attempt returns the current attempt number (1 after the first queue).
func (t *Task) Attempt() int { return t.attempt }

// LastFailedAttempt returns the attempt of the latest task.attempt_failed
// (0 without one): that attempt and those before it ended as the log
// records, so no later attempt may take their work over.
func (t *Task) LastFailedAttempt() int { return t.lastFailedAttempt }

// WorkerID returns the worker that holds the current attempt, if running.
func (t *Task) WorkerID() string { return t.workerID }

// CancelRequested reports whether a cancel was requested while running.
func (t *Task) CancelRequested() bool { return t.cancelRequested }

// WaitingReason says why a queued task has not started yet (the last
// task.waiting of its current attempt); empty otherwise.
func (t *Task) WaitingReason() string { return t.waitingReason }

// NotBefore returns when the queued attempt is due: after its retry
// backoff. Zero when it is due at once.
func (t *Task) NotBefore() time.Time { return t.notBefore }

// RetryPolicy returns the task's retry policy as task.created stored it
// (defaults filled in), or the default, one attempt, when it has none.
func (t *Task) RetryPolicy() RetryPolicy {
	if t.retry == nil {
		return defaultRetryPolicy
	}
	return *t.retry
}

// defaultRetryPolicy is a task's without one: a single attempt, the other
// fields as Normalize fills them in.
var defaultRetryPolicy, _ = RetryPolicy{MaxAttempts: 1}.Normalize()

// OnInterrupt returns what becomes of the task when its worker dies
// (OnInterruptRetry unless task.created says otherwise).
func (t *Task) OnInterrupt() OnInterrupt {
	if t.onInterrupt == "" {
		return OnInterruptRetry
	}
	return t.onInterrupt
}

// TimeoutS returns the task's timeout in seconds.
func (t *Task) TimeoutS() int { return t.timeoutS }

// Adapter returns the executor the task runs on; empty for an empty stream
// or a pruned task.created payload.
func (t *Task) Adapter() Adapter { return t.adapter }

// Args returns a copy of the adapter's arguments as task.created stored
// them (canonical JSON); empty when that payload was pruned.
func (t *Task) Args() json.RawMessage { return json.RawMessage(t.args) }

// OutputBytes returns what the task's output takes in its log: the bytes of
// the payloads of its task.output events (the output, JSON-escaped, and
// about 50 bytes each beside it), over all its attempts. A pruned payload
// counts nothing. Counting the stored bytes keeps rebuilding a task cheap:
// output payloads are not decoded.
func (t *Task) OutputBytes() int64 { return t.outputBytes }

// OutputEvents returns how many task.output and task.progress events the
// task has, over all its attempts.
func (t *Task) OutputEvents() int64 { return t.outputEvents }

// HeldBy reports whether workerID holds the task's current attempt: the
// task runs on it and no one has taken the attempt away (task.lease_lost).
func (t *Task) HeldBy(workerID string) bool {
	return t.State() == StateRunning && !t.released && t.workerID == workerID
}

// CreatedAt returns when the task was created (zero for an empty stream).
func (t *Task) CreatedAt() time.Time { return t.createdAt }

// DueAt is when the current attempt could first start: the time of its
// task.queued, or its not_before when later (a retry's backoff). A
// worker's claim minus DueAt is the task's dispatch latency.
func (t *Task) DueAt() time.Time {
	if t.notBefore.After(t.queuedAt) {
		return t.notBefore
	}
	return t.queuedAt
}

// StartedAt returns when the current attempt started (zero if never).
func (t *Task) StartedAt() time.Time { return t.startedAt }

// EndedAt returns when the task reached a terminal state (zero if not yet).
func (t *Task) EndedAt() time.Time { return t.endedAt }

// CheckNext reports whether an event of type typ may follow the task's current state.
func (t *Task) CheckNext(typ EventType) error {
	s := t.State()
	ok := false
	switch s {
	case StateNew:
		ok = typ == TaskCreatedType
	case StateCreated:
		ok = typ == TaskQueuedType || typ == TaskCanceledType || typ == TaskFailedType
	case StateQueued:
		ok = typ == TaskStartedType || typ == TaskCanceledType || typ == TaskFailedType || typ == TaskTimedOutType || typ == TaskWaitingType
	case StateRunning:
		if t.released {
			// The attempt's worker is gone, or its attempt failed: only
			// re-queue or an ending may follow.
			ok = typ == TaskQueuedType || typ == TaskFailedType || typ == TaskCanceledType || typ == TaskTimedOutType
			break
		}
		switch typ {
		case TaskOutputType, TaskProgressType, TaskCancelRequestedType, TaskLeaseLostType, TaskAttemptFailedType,
			TaskSucceededType, TaskFailedType, TaskCanceledType, TaskTimedOutType:
			ok = true
		default: // no other event follows a running attempt
		}
	case StateSucceeded, StateFailed, StateCanceled, StateTimedOut: // nothing follows an end
	}
	if !ok {
		return &TransitionError{From: s, Event: typ}
	}
	return nil
}

// Apply evolves the task by one stored event. It fails if the event's seq is
// not the next one, its type may not follow the current state, or its payload
// does not decode.
func (t *Task) Apply(e Event) error {
	if e.Seq != t.seq+1 {
		return fmt.Errorf("apply seq %d to task at seq %d: events must be applied in order without gaps", e.Seq, t.seq)
	}
	if !KnownType(e.Type) {
		return &UnknownEventTypeError{Type: e.Type}
	}
	if err := t.CheckNext(e.Type); err != nil {
		return err
	}
	p, err := decodeForState(e)
	if err != nil {
		return err
	}
	switch p := p.(type) {
	case *TaskCreated:
		t.state = StateCreated
		t.timeoutS = p.TimeoutS
		t.adapter = Adapter(p.Adapter)
		t.args = string(p.Args)
		t.retry = p.Retry
		t.onInterrupt = p.OnInterrupt
		t.createdAt = e.OccurredAt
	case *TaskWaiting:
		t.waitingReason = p.Reason
	case *TaskQueued:
		t.state = StateQueued
		t.attempt = p.Attempt
		t.waitingReason = ""
		t.workerID = ""
		t.released = false
		t.cancelRequested = false
		t.queuedAt = e.OccurredAt
		if t.notBefore, err = queuedNotBefore(p); err != nil {
			return err
		}
	case *TaskStarted:
		t.state = StateRunning
		t.waitingReason = ""
		t.workerID = p.WorkerID
		t.attempt = p.Attempt
		t.startedAt = e.OccurredAt
	case *TaskOutput:
		t.outputBytes += int64(len(e.Payload))
		t.outputEvents++
	case *TaskProgress:
		t.outputEvents++
	case *TaskCancelRequested:
		t.cancelRequested = true
	case *TaskLeaseLost:
		t.released = true
	case *TaskAttemptFailed:
		t.released = true
		t.failedAttempts++
		t.lastFailedAttempt = t.attempt
	case *TaskSucceeded:
		t.end(StateSucceeded, e.OccurredAt)
	case *TaskFailed:
		t.end(StateFailed, e.OccurredAt)
	case *TaskCanceled:
		t.end(StateCanceled, e.OccurredAt)
	case *TaskTimedOut:
		t.end(StateTimedOut, e.OccurredAt)
	}
	t.seq = e.Seq
	return nil
}

// decodeForState decodes the payload of an event (of a known type) that
// changes the task's state. Output and progress do not, so their payloads are not decoded
// (rebuilding a task with a long log stays cheap), and neither is a pruned
// (nil) payload: retention may prune payloads, and the task must still load.
func decodeForState(e Event) (any, error) {
	if e.Type == TaskOutputType || e.Type == TaskProgressType || e.Payload == nil {
		return registry[e.Type](), nil
	}
	return Decode(e.Type, e.Payload)
}

// queuedNotBefore returns the time a task.queued says its attempt is due
// (zero: at once, or a pruned payload).
func queuedNotBefore(p *TaskQueued) (time.Time, error) {
	if p.NotBefore == "" {
		return time.Time{}, nil
	}
	at, err := ParseTime(p.NotBefore)
	if err != nil {
		return time.Time{}, fmt.Errorf("task.queued not_before %q: %w", p.NotBefore, err)
	}
	return at, nil
}

func (t *Task) end(s TaskState, at time.Time) {
	t.state = s
	t.waitingReason = ""
	t.endedAt = at
	t.workerID = ""
}
