package api

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// StartTaskRequest is the body of POST /mcp/start_task.
type StartTaskRequest struct {
	// Name is 1–200 bytes without control characters.
	Name string `json:"name"`
	// Adapter runs the task (domain.AdapterMock, domain.AdapterShell, …).
	Adapter domain.Adapter `json:"adapter"`
	// Args are the adapter's arguments, a JSON object; absent takes the
	// adapter's defaults.
	Args json.RawMessage `json:"args,omitempty"`
	// TimeoutS bounds each attempt's run, in seconds; 0 takes the smaller
	// of one hour and the plan's longest.
	TimeoutS int `json:"timeout_s,omitempty"`
	// Retry, when set, runs the task again after an attempt fails, with
	// backoff (Temporal's names; max_attempts is required, 0 takes an
	// interval's default). Absent: the task runs once.
	Retry *domain.RetryPolicy `json:"retry,omitempty"`
	// OnInterrupt is "retry" (absent: queue the task again when its
	// worker dies, at-least-once) or "fail" (fail it: never run twice).
	OnInterrupt domain.OnInterrupt `json:"on_interrupt,omitempty"`
}

// StartedTask answers POST /mcp/start_task (201).
type StartedTask struct {
	TaskID uuid.UUID `json:"task_id"`
	// StreamURL is the path of the task's SSE stream, relative to the
	// API's base URL.
	StreamURL string `json:"stream_url"`
	// ResumeToken grants read-only access to this one task (?token=):
	// its status, stream and events. It does not expire: it is a
	// credential, which String and LogValue leave out.
	ResumeToken string `json:"resume_token"`
}

// String describes t without its resume token, so that printing or
// logging it leaks nothing.
func (t StartedTask) String() string {
	return fmt.Sprintf("{task %s, stream %s, resume token redacted}", t.TaskID, t.StreamURL)
}

// LogValue logs t as String does (slog.LogValuer).
func (t StartedTask) LogValue() slog.Value { return slog.StringValue(t.String()) }

// StartTasksRequest is the body of POST /v1/tasks/batch: tasks to start
// all at once, all or none.
type StartTasksRequest struct {
	// Tasks are 1 to 1,000 starts.
	Tasks []BatchTask `json:"tasks"`
}

// BatchTask is one task of a StartTasksRequest: a start as POST
// /mcp/start_task takes it, and its own idempotency key.
type BatchTask struct {
	StartTaskRequest
	// IdempotencyKey, when set, is this task's own key, as a single
	// start's Idempotency-Key header is: sent again, in any batch or in a
	// single start, it finds the same task. At most 200 bytes without
	// control characters; no two tasks of a batch may share one.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// StartedTasks answers POST /v1/tasks/batch (201): each task as a single
// start answers it, in the order of the request.
type StartedTasks struct {
	Tasks []StartedTask `json:"tasks"`
}

// String describes t without its tasks' resume tokens.
func (t StartedTasks) String() string {
	return fmt.Sprintf("{%d tasks, resume tokens redacted}", len(t.Tasks))
}

// LogValue logs t as String does (slog.LogValuer).
func (t StartedTasks) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Task is a task as GET /mcp/tasks/{id}/status answers it (read from the
// event log) and as GET /v1/tasks lists it (from the task list read
// model). Name and Adapter are in list items only; WaitingReason in a
// status only, when the task is queued behind its tenant's limit.
type Task struct {
	TaskID  uuid.UUID      `json:"task_id"`
	Name    string         `json:"name,omitempty"`
	Adapter domain.Adapter `json:"adapter,omitempty"`
	// State is created, queued, running or a terminal state (succeeded,
	// failed, canceled, timed_out; see domain.TaskState.Terminal).
	State domain.TaskState `json:"state"`
	// Attempt counts the runs (more than 1 after a worker died or a
	// failed attempt was retried).
	Attempt int `json:"attempt"`
	// CreatedAt, StartedAt and EndedAt are zero (null) until the task
	// gets there.
	CreatedAt Time `json:"created_at"`
	StartedAt Time `json:"started_at"`
	EndedAt   Time `json:"ended_at"`
	// LastSeq is the seq of the task's last event.
	LastSeq int64 `json:"last_seq"`
	// WaitingReason says why a queued task has not started (its tenant
	// runs as many tasks as its plan allows).
	WaitingReason string `json:"waiting_reason,omitempty"`
	// NextAttemptAt, in a status only, is when a queued retry is due: its
	// attempt waits for the backoff of its retry policy until then.
	NextAttemptAt *Time `json:"next_attempt_at,omitempty"`
}

// TaskPage answers GET /v1/tasks.
type TaskPage struct {
	// Tasks are newest first.
	Tasks []Task `json:"tasks"`
	// NextCursor, when not nil (null), is the ?cursor= of the next page; a
	// full page always has one, so the last page may be empty.
	NextCursor *string `json:"next_cursor"`
}

// Canceled answers POST /mcp/tasks/{id}/cancel: always true.
type Canceled struct {
	Canceled bool `json:"canceled"`
}

// ResumeRequest is the body of POST /mcp/tasks/{id}/resume: the stream
// goes on after event LastSeq.
type ResumeRequest struct {
	LastSeq int64 `json:"last_seq"`
}

// EventPage answers GET /v1/tasks/{id}/events.
type EventPage struct {
	// Events are in seq order, each in domain.Event's JSON form (the
	// envelope of AppendJSON), with every field its hash chain needs and
	// a feed position where the server has sealed it (domain.NoPosition
	// otherwise). Never null.
	Events []domain.Event `json:"events"`
	// NextSeq is the since_seq of the next page: the last event's seq, or
	// the request's since_seq when the page is empty.
	NextSeq int64 `json:"next_seq"`
	// Ended says that no event follows the page: the task has ended.
	Ended bool `json:"ended"`
}

// TenantEventPage answers GET /v1/events as JSON: a page of the caller's
// tenant's slice of the feed.
type TenantEventPage struct {
	// Events are in feed position order, each in domain.Event's JSON form
	// with its position. Never null.
	Events []domain.Event `json:"events"`
	// Projections, asked for with ?include=projections, are the changes
	// of read model rows that the page's events caused, in feed order:
	// each belongs just before the event at its Position, which comes
	// after it in Events (unless filtered out). Absent without
	// include=projections.
	Projections []FeedProjection `json:"projections,omitempty"`
	// NextAfter is the after of the next page: the position of the last
	// event read (sent or filtered out), or the request's after when the
	// page is empty (for ?after=now, the position the feed ended at).
	NextAfter int64 `json:"next_after"`
}

// FeedAfterNow is the ?after= of GET /v1/events that starts at the feed's
// current end: only events that become final after the request are sent.
// It suits a live view that reads the current state elsewhere (the
// dashboard's task list follows the feed so); a consumer that keeps a copy
// starts at -1 and resumes after the position it stored.
const FeedAfterNow = "now"

// Frame types of the projection changes of GET /v1/events
// (?include=projections), the SSE event names and FeedProjection.Type.
const (
	// ProjectionTaskType is a change of a task's row of the task list.
	ProjectionTaskType = "projection.task"
	// ProjectionUsageType is an increment of a usage counters row.
	ProjectionUsageType = "projection.usage"
)

// FeedProjection is a change of a read model row in the tenant's feed:
// what the event at Position changed in the task list (Task) or in the
// usage counters (Usage). It is derived from the events by the read
// models' own fold, so it is the same on every read and every resume.
type FeedProjection struct {
	// ID is the frame's id: the position, a dot and 1 for a task row or
	// 2 for a usage increment ("41.1"). It is a valid Last-Event-ID and
	// ?after=, resuming right after this frame.
	ID string `json:"id"`
	// Position is the feed position of the event that caused the change.
	Position int64 `json:"position"`
	// Type is ProjectionTaskType or ProjectionUsageType.
	Type string `json:"type"`
	// Task, for projection.task, is the task's row after the event, as
	// GET /v1/tasks lists it (without waiting_reason, which is not part
	// of the read model).
	Task *Task `json:"task,omitempty"`
	// Usage, for projection.usage, is what the event added to its
	// tenant's UTC day: add each count to the day's row (and derive task
	// minutes from the summed task_run_ms; this increment's task_minutes
	// rounds up its own task_run_ms only).
	Usage *UsageDay `json:"usage,omitempty"`
}
