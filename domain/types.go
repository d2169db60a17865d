package domain

// StreamType names the kind of aggregate a stream belongs to.
type StreamType string

// Stream types. They are stored with every event and never renamed.
const (
	StreamTask    StreamType = "task"
	StreamTenant  StreamType = "tenant"
	StreamUser    StreamType = "user"
	StreamAPIKey  StreamType = "api_key"
	StreamWebhook StreamType = "webhook"
	StreamSession StreamType = "session"
	StreamSecret  StreamType = "secret"
	// StreamInbox is an email address's inbox of invitations: its id
	// derives from the address, its tenant id is its own id.
	StreamInbox StreamType = "inbox"
	// StreamUsage is a tenant's usage stream of one UTC day: the read-side
	// counts API processes flush (usage.recorded).
	StreamUsage StreamType = "usage"
	// StreamBilling is a Stripe webhook event's stream: the record that it
	// was handled (billing.stripe_event_handled).
	StreamBilling StreamType = "billing"
)

var knownStreamTypes = map[StreamType]bool{
	StreamTask: true, StreamTenant: true, StreamUser: true, StreamAPIKey: true, StreamWebhook: true, StreamSession: true, StreamSecret: true, StreamInbox: true,
	StreamUsage: true, StreamBilling: true,
}

// Valid reports whether s is a known stream type.
func (s StreamType) Valid() bool { return knownStreamTypes[s] }

// EventType is an event's dotted name, e.g. "task.started". Event type names
// are hashed into the chain and are never renamed.
type EventType string

// Task event types (docs/api.md lists them).
const (
	TaskCreatedType         EventType = "task.created"
	TaskQueuedType          EventType = "task.queued"
	TaskStartedType         EventType = "task.started"
	TaskOutputType          EventType = "task.output"
	TaskProgressType        EventType = "task.progress"
	TaskCancelRequestedType EventType = "task.cancel_requested"
	TaskLeaseLostType       EventType = "task.lease_lost"
	TaskSucceededType       EventType = "task.succeeded"
	TaskFailedType          EventType = "task.failed"
	TaskCanceledType        EventType = "task.canceled"
	TaskTimedOutType        EventType = "task.timed_out"
	// TaskWaitingType says why a queued task does not start yet (its
	// tenant runs as many tasks as its plan allows); it changes no state.
	TaskWaitingType EventType = "task.waiting"
	// TaskAttemptFailedType records an attempt that failed and is tried
	// again under the task's retry policy (task.queued follows).
	TaskAttemptFailedType EventType = "task.attempt_failed"
)

// TaskLifecycleTypes are the task events that set what a task is or move
// it through its states: its creation, each queueing and start, and its
// four ends. The others (output, progress, waiting, a cancel request, a
// lost lease, a failed attempt) leave its state, attempt and times as they
// were: a copy of the task list needs refreshing on these only
// (projections.EvolveTaskView, whose test keeps the two in step).
var TaskLifecycleTypes = []EventType{TaskCreatedType, TaskQueuedType, TaskStartedType,
	TaskSucceededType, TaskFailedType, TaskCanceledType, TaskTimedOutType}

// Terminal reports whether an event of type t ends its task: no event may
// follow it.
func (t EventType) Terminal() bool {
	switch t {
	case TaskSucceededType, TaskFailedType, TaskCanceledType, TaskTimedOutType:
		return true
	default:
		return false
	}
}
