package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// StartTaskRequest describes a task to start: the body of the call
// (api.StartTaskRequest), with Go types for its arguments and timeout, and
// the call's idempotency key.
type StartTaskRequest struct {
	// Name is 1–200 bytes without control characters.
	Name string
	// Adapter runs the task: domain.AdapterMock, domain.AdapterShell or
	// domain.AdapterDocker.
	Adapter domain.Adapter
	// Args are the adapter's arguments (docs/api.md): a json.RawMessage, or
	// any value that encodes to a JSON object, such as
	// map[string]any{"command": []string{"make", "test"}} or a
	// *domain.DockerArgs (whose secret references encode as such). Nil takes
	// the adapter's defaults.
	Args any
	// Timeout bounds the run, in whole seconds (rounded up); 0 takes the
	// smaller of one hour and the plan's longest.
	Timeout time.Duration
	// Retry, when set, runs the task again after an attempt fails, with
	// backoff (domain.RetryPolicy: MaxAttempts is required, a zero interval
	// or coefficient takes its default); nil runs it once.
	Retry *domain.RetryPolicy
	// OnInterrupt says what becomes of the task when its worker dies:
	// domain.OnInterruptRetry ("" too) queues it again, domain.OnInterruptFail
	// fails it, so that it never runs twice.
	OnInterrupt domain.OnInterrupt
	// IdempotencyKey, when set, is sent as Idempotency-Key: a retry with the
	// same key returns the first answer instead of starting another task,
	// and the same key with other arguments is a 409.
	IdempotencyKey string
}

// StartTask starts a task (POST /mcp/start_task; scope tasks:write). The
// answer's ResumeToken works as StreamOptions.ResumeToken and
// EventsOptions.ResumeToken; it prints and logs redacted. Past
// the tenant's daily quota it fails with an *APIError matching
// ErrQuotaExceeded; wrong input with one matching ErrInvalidInput, whose
// Field names the input at fault.
func (c *Client) StartTask(ctx context.Context, req StartTaskRequest) (api.StartedTask, error) {
	body, err := req.body()
	if err != nil {
		return api.StartedTask{}, err
	}
	k := call{method: http.MethodPost, path: "/mcp/start_task", body: body}
	k.header = idempotencyKey(req.IdempotencyKey)
	var out api.StartedTask
	if err := c.do(ctx, k, &out, 0); err != nil {
		return api.StartedTask{}, err
	}
	return out, nil
}

// body returns the body of a start of req.
func (req StartTaskRequest) body() (api.StartTaskRequest, error) {
	body := api.StartTaskRequest{Name: req.Name, Adapter: req.Adapter, Retry: req.Retry, OnInterrupt: req.OnInterrupt}
	switch args := req.Args.(type) {
	case nil:
	case json.RawMessage:
		body.Args = args
	case []byte:
		body.Args = args
	default:
		b, err := json.Marshal(args)
		if err != nil {
			return api.StartTaskRequest{}, fmt.Errorf("axontask client: encode the task's args: %w", err)
		}
		body.Args = b
	}
	if req.Timeout < 0 {
		return api.StartTaskRequest{}, fmt.Errorf("axontask client: the task's timeout is %s; give a positive one, or 0 for the default", req.Timeout)
	}
	body.TimeoutS = int(req.Timeout / time.Second)
	if req.Timeout%time.Second != 0 {
		body.TimeoutS++
	}
	return body, nil
}

// idempotencyKey returns the header that sends key as Idempotency-Key;
// none for an empty key.
func idempotencyKey(key string) http.Header {
	if key == "" {
		return nil
	}
	return http.Header{"Idempotency-Key": {key}}
}

// MaxBatchTasks bounds the tasks of one StartTasks.
const MaxBatchTasks = 1000

// StartTasksRequest describes tasks to start all at once.
type StartTasksRequest struct {
	// Tasks are 1 to MaxBatchTasks starts. Each one's IdempotencyKey, when
	// set, is its own key, sent as its idempotency_key: it finds the same
	// task again, in any batch or in a StartTask with that key. No two
	// tasks may share one.
	Tasks []StartTaskRequest
	// IdempotencyKey, when set, is sent as the batch's Idempotency-Key:
	// each task without a key of its own gets one derived from it and the
	// task's index, so that sending the same batch again (same tasks, same
	// order) returns the tasks the first call started and starts none.
	IdempotencyKey string
}

// StartTasks starts req's tasks in one request and one commit, all or none
// (POST /v1/tasks/batch; scope tasks:write), and returns them in the order
// of req.Tasks. One invalid task fails it with an *APIError matching
// ErrInvalidInput whose Field names the task and its field
// ("tasks[3].args.steps"), and nothing starts; a batch that would pass the
// tenant's daily quota fails whole with one matching ErrQuotaExceeded
// (Limit minus Used is how many would fit). Split a larger backlog into
// calls of at most MaxBatchTasks.
func (c *Client) StartTasks(ctx context.Context, req StartTasksRequest) ([]api.StartedTask, error) {
	if n := len(req.Tasks); n < 1 || n > MaxBatchTasks {
		return nil, fmt.Errorf("axontask client: a batch of %d tasks; send 1 to %d", n, MaxBatchTasks)
	}
	body := api.StartTasksRequest{Tasks: make([]api.BatchTask, len(req.Tasks))}
	for i, t := range req.Tasks {
		b, err := t.body()
		if err != nil {
			return nil, fmt.Errorf("tasks[%d]: %w", i, err)
		}
		body.Tasks[i] = api.BatchTask{StartTaskRequest: b, IdempotencyKey: t.IdempotencyKey}
	}
	k := call{method: http.MethodPost, path: "/v1/tasks/batch", body: body, header: idempotencyKey(req.IdempotencyKey)}
	var out api.StartedTasks
	if err := c.do(ctx, k, &out, 0); err != nil {
		return nil, err
	}
	if len(out.Tasks) != len(req.Tasks) {
		return nil, fmt.Errorf("axontask client: POST /v1/tasks/batch answered %d tasks for %d", len(out.Tasks), len(req.Tasks))
	}
	return out.Tasks, nil
}

// TaskStatus returns a task's status (GET /mcp/tasks/{id}/status; scope
// tasks:read), read from its event log: it reflects every write that
// answered before it was asked. It has no Name or Adapter; WaitingReason
// says why a queued task waits. Another tenant's task is ErrNotFound,
// exactly like one that does not exist.
func (c *Client) TaskStatus(ctx context.Context, taskID uuid.UUID) (api.Task, error) {
	var out api.Task
	if err := c.do(ctx, call{method: http.MethodGet, path: "/mcp/tasks/" + taskID.String() + "/status"}, &out, 0); err != nil {
		return api.Task{}, err
	}
	return out, nil
}

// CancelTask asks for a task to be canceled (POST /mcp/tasks/{id}/cancel;
// scope tasks:write); idempotencyKey, when not empty, is sent as
// Idempotency-Key. Canceling a task that is canceled or being canceled
// succeeds; one that ended otherwise fails with a *TaskFinishedError
// carrying its final state. The task stops asynchronously: its stream ends
// with task.canceled.
func (c *Client) CancelTask(ctx context.Context, taskID uuid.UUID, idempotencyKey string) error {
	k := call{method: http.MethodPost, path: "/mcp/tasks/" + taskID.String() + "/cancel"}
	if idempotencyKey != "" {
		k.header = http.Header{"Idempotency-Key": {idempotencyKey}}
	}
	err := c.do(ctx, k, nil, 0)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict && apiErr.Type == problemTaskFinished {
		return &TaskFinishedError{State: apiErr.State, Err: apiErr}
	}
	return err
}

// ListTasksOptions select a page of the task list.
type ListTasksOptions struct {
	// State keeps only the tasks in this state (empty: all).
	State domain.TaskState
	// Limit is the page size, 1–100 (0: the server's default, 20).
	Limit int
	// Cursor is a previous page's api.TaskPage.NextCursor (empty: the
	// first page).
	Cursor string
	// CreatedAfter and CreatedBefore, when not zero, keep only the tasks
	// created strictly after, and strictly before, these times (to the
	// microsecond). Pass the same bounds with every page of one list.
	CreatedAfter, CreatedBefore time.Time
}

// ListTasks returns a page of the caller's tenant's tasks, newest first
// (GET /v1/tasks; scope tasks:read). The list follows the event log a few
// milliseconds behind: a task just started may be missing or show an older
// state for a moment (TaskStatus reads the log itself). Its tasks have no
// WaitingReason.
func (c *Client) ListTasks(ctx context.Context, opts ListTasksOptions) (api.TaskPage, error) {
	q := url.Values{}
	if opts.State != "" {
		q.Set("state", string(opts.State))
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	if !opts.CreatedAfter.IsZero() {
		q.Set("created_after", opts.CreatedAfter.UTC().Format(time.RFC3339Nano))
	}
	if !opts.CreatedBefore.IsZero() {
		q.Set("created_before", opts.CreatedBefore.UTC().Format(time.RFC3339Nano))
	}
	var out api.TaskPage
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/tasks", query: q}, &out, 0); err != nil {
		return api.TaskPage{}, err
	}
	return out, nil
}

// AllTasks iterates over the task list from opts.Cursor on (opts.Limit is
// the page size), fetching page after page as the loop asks for more. A
// failed page yields its error once, with a zero api.Task, and ends the
// iteration.
func (c *Client) AllTasks(ctx context.Context, opts ListTasksOptions) iter.Seq2[api.Task, error] {
	return func(yield func(api.Task, error) bool) {
		for {
			page, err := c.ListTasks(ctx, opts)
			if err != nil {
				yield(api.Task{}, err)
				return
			}
			for _, t := range page.Tasks {
				if !yield(t, nil) {
					return
				}
			}
			if page.NextCursor == nil || len(page.Tasks) == 0 {
				return
			}
			opts.Cursor = *page.NextCursor
		}
	}
}

// EventsOptions select a page of a task's events.
type EventsOptions struct {
	// SinceSeq: the page starts after the event with this seq (0: at the
	// first event).
	SinceSeq int64
	// Limit is the page size, 1–1000 (0: the server's default, 100).
	Limit int
	// ResumeToken, when set, authorizes the call instead of the Client's
	// credential (api.StartedTask.ResumeToken).
	ResumeToken string
}

// defaultEventsLimit is the server's page size without a limit.
const defaultEventsLimit = 100

// TaskEvents returns a page of a task's events (GET
// /v1/tasks/{id}/events; scope tasks:read or the task's resume token).
// Every event carries the fields its hash chain needs: feed the pages in
// order to an integrity.Verifier to verify them.
//
// The server writes each payload in its RFC 8785 canonical form, the bytes
// it digested; a proxy that re-encodes JSON may not (escaping <, > or &, say),
// so TaskEvents restores every payload to that form.
func (c *Client) TaskEvents(ctx context.Context, taskID uuid.UUID, opts EventsOptions) (api.EventPage, error) {
	if opts.SinceSeq < 0 || opts.Limit < 0 {
		return api.EventPage{}, fmt.Errorf("axontask client: events since %d, limit %d: neither may be negative", opts.SinceSeq, opts.Limit)
	}
	q := url.Values{"since_seq": {strconv.FormatInt(opts.SinceSeq, 10)}}
	limit := defaultEventsLimit
	if opts.Limit != 0 {
		limit = opts.Limit
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.ResumeToken != "" {
		q.Set("token", opts.ResumeToken)
	}
	var page api.EventPage
	bound := int64(min(limit, 1000))*maxEventBytes + 64<<10
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/tasks/" + taskID.String() + "/events", query: q}, &page, bound); err != nil {
		return api.EventPage{}, err
	}
	for i := range page.Events {
		e := &page.Events[i]
		if e.Payload != nil && !integrity.IsCanonical(e.Payload) {
			canonical, err := integrity.CanonicalPayload(e.Payload)
			if err != nil {
				return api.EventPage{}, fmt.Errorf("axontask client: events of task %s: seq %d: %w", taskID, e.Seq, err)
			}
			e.Payload = canonical
		}
	}
	return page, nil
}
