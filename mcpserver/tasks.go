package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/textcut"
)

// Bounds of MCP tasks.
const (
	// DefaultTaskPollInterval is the pollInterval a task suggests.
	DefaultTaskPollInterval = time.Second
	// tailEvents is how many of a task's last events tasks/get reads for
	// its latest progress and output.
	tailEvents = 50
	// maxResultLines and maxResultLineBytes bound the output a task's
	// result quotes.
	maxResultLines     = 20
	maxResultLineBytes = 500
	// cancelWait bounds how long tasks/cancel waits for the task to end
	// as canceled before it answers (2025-11-25 wants the task canceled
	// in the answer).
	cancelWait = 10 * time.Second
)

// MCP task statuses.
const (
	statusWorking   = "working"
	statusCompleted = "completed"
	statusFailed    = "failed"
	statusCancelled = "cancelled"
)

// taskView is an AxonTask task seen as an MCP task: the MCP task id is the
// task id, the status follows the task's state, the status message its
// latest progress, and once it ended, its result is start_task's result
// with how it ended.
type taskView struct {
	id            uuid.UUID
	state         domain.TaskState
	message       string
	createdAt     time.Time
	lastUpdatedAt time.Time
	// result is the tool result of an ended task, nil before.
	result *mcp.CallToolResult
}

// status is the view's MCP status. 2025-11-25 calls a tool result with
// isError "failed"; the 2026-07-28 extension keeps "failed" for JSON-RPC
// errors, so a failed or timed-out task is "completed" there, its result
// an error.
func (v taskView) status(extension bool) string {
	switch v.state {
	case domain.StateSucceeded:
		return statusCompleted
	case domain.StateFailed, domain.StateTimedOut:
		if extension {
			return statusCompleted
		}
		return statusFailed
	case domain.StateCanceled:
		return statusCancelled
	default:
		return statusWorking
	}
}

func (t *tools) v1(v taskView) taskV1 {
	return taskV1{
		TaskID: v.id.String(), Status: v.status(false), StatusMessage: v.message,
		CreatedAt: domain.FormatTime(v.createdAt), LastUpdatedAt: domain.FormatTime(v.lastUpdatedAt),
		PollInterval: t.cfg.TaskPollInterval.Milliseconds(),
	}
}

func (t *tools) v2(v taskView) taskV2 {
	w := taskV2{
		TaskID: v.id.String(), Status: v.status(true), StatusMessage: v.message,
		CreatedAt: domain.FormatTime(v.createdAt), LastUpdatedAt: domain.FormatTime(v.lastUpdatedAt),
		PollIntervalMs: t.cfg.TaskPollInterval.Milliseconds(),
	}
	if w.Status == statusCompleted {
		w.Result = v.result
	}
	return w
}

// view reads task id as an MCP task: its status, and its last events for
// its latest progress, its last update and, once it ended, its output.
func (t *tools) view(ctx context.Context, c *client.Client, id uuid.UUID) (taskView, error) {
	st, err := c.TaskStatus(ctx, id)
	if err != nil {
		return taskView{}, err
	}
	page, err := c.TaskEvents(ctx, id, client.EventsOptions{SinceSeq: max(0, st.LastSeq-tailEvents), Limit: tailEvents})
	if err != nil {
		return taskView{}, err
	}
	v := taskView{id: id, state: st.State, createdAt: st.CreatedAt.Time, lastUpdatedAt: st.CreatedAt.Time}
	var progress *domain.TaskProgress
	var last *domain.Event
	for i := range page.Events {
		e := &page.Events[i]
		v.lastUpdatedAt, last = e.OccurredAt, e
		var p domain.TaskProgress
		if e.Type == domain.TaskProgressType && json.Unmarshal(e.Payload, &p) == nil {
			progress = &p
		}
	}
	v.message = stateMessage(st, progress, last)
	if st.State.Terminal() {
		v.result = taskResult(st, v.message, page.Events)
	}
	return v, nil
}

// stateMessage describes a task's state for statusMessage: its latest
// progress while it runs, why it waits while queued (its plan's limit, or
// a retry's backoff), how it ended.
func stateMessage(st api.Task, progress *domain.TaskProgress, last *domain.Event) string {
	switch {
	case st.State.Terminal():
		return endMessage(st.State, last)
	case st.WaitingReason != "":
		return "queued: " + st.WaitingReason
	case st.NextAttemptAt != nil:
		return fmt.Sprintf("queued: an attempt failed; attempt %d is due at %s", st.Attempt, domain.FormatTime(st.NextAttemptAt.Time))
	case progress != nil && progress.Message != "":
		return fmt.Sprintf("%s: %.0f%% %s", st.State, progress.Percent, progress.Message)
	case progress != nil:
		return fmt.Sprintf("%s: %.0f%%", st.State, progress.Percent)
	}
	return string(st.State)
}

// endMessage says how a task ended, from its terminal event when at hand.
func endMessage(state domain.TaskState, last *domain.Event) string {
	if last == nil || !last.Type.Terminal() {
		return string(state)
	}
	switch last.Type {
	case domain.TaskFailedType:
		var f domain.TaskFailed
		if json.Unmarshal(last.Payload, &f) == nil {
			if f.ExitCode != nil {
				return fmt.Sprintf("failed: %s (exit code %d)", textcut.Clip(f.Error, maxResultLineBytes), *f.ExitCode)
			}
			return "failed: " + textcut.Clip(f.Error, maxResultLineBytes)
		}
	case domain.TaskCanceledType:
		var c domain.TaskCanceled
		if json.Unmarshal(last.Payload, &c) == nil && c.Reason != "" {
			return "canceled: " + textcut.Clip(c.Reason, maxResultLineBytes)
		}
	case domain.TaskTimedOutType:
		var to domain.TaskTimedOut
		if json.Unmarshal(last.Payload, &to) == nil {
			return fmt.Sprintf("timed out after %d s", to.TimeoutS)
		}
	default: // succeeded says it all
	}
	return string(state)
}

// taskResult is the tool result of an ended start_task: start_task's
// output with the task's final state, and a text that says how it ended
// and quotes its last output lines. It is an error result unless the task
// succeeded.
func taskResult(st api.Task, message string, events []domain.Event) *mcp.CallToolResult {
	out := StartTaskOutput{TaskID: st.TaskID.String(), StreamURL: "/mcp/tasks/" + st.TaskID.String() + "/stream", State: string(st.State)}
	var lines []string
	for i := range events {
		var o domain.TaskOutput
		if events[i].Type == domain.TaskOutputType && json.Unmarshal(events[i].Payload, &o) == nil {
			for _, l := range strings.Split(strings.TrimSuffix(o.Data, "\n"), "\n") {
				lines = append(lines, textcut.Clip(l, maxResultLineBytes))
			}
		}
	}
	if len(lines) > maxResultLines {
		lines = lines[len(lines)-maxResultLines:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Task %s ended: %s (last_seq %d).", out.TaskID, message, st.LastSeq)
	if len(lines) > 0 {
		b.WriteString("\nIts last output:\n" + strings.Join(lines, "\n"))
	}
	fmt.Fprintf(&b, "\nread_task_events {\"task_id\": %q} returns all its events.", out.TaskID)
	structured, _ := json.Marshal(out) // strings only: cannot fail
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: b.String()}},
		StructuredContent: json.RawMessage(structured),
		IsError:           st.State != domain.StateSucceeded,
	}
}

// taskTools are the tools that may run as MCP tasks: start_task, whose
// task is the AxonTask task it starts.
func (t *tools) taskTools() []string { return []string{"start_task"} }

// callTool serves tools/call. A call of start_task from a client that
// asked for a task (the "task" param, 2025-11-25) or accepts one (the
// extension declared on the request, 2026-07-28) starts the task as the
// plain call does and answers with the MCP task instead of the tool
// result; any other call is the plain one.
func (t *tools) callTool(ctx context.Context, r *mcp.CallToolRequest, next func() (mcp.Result, error)) (mcp.Result, error) {
	_, asked := r.Params.Meta[metaTaskParam]
	extension, err := taskVersion(r)
	accepts := extension && err == nil
	if !asked && !accepts {
		return next()
	}
	if r.Params.Name != "start_task" {
		if asked {
			return nil, rpcError(jsonrpc.CodeMethodNotFound, "tool %q cannot run as a task (its execution.taskSupport is forbidden); call it without the task param", textcut.Clip(r.Params.Name, 80))
		}
		return next()
	}
	res, err := next()
	if err != nil {
		return nil, err
	}
	started, ok := res.(*mcp.CallToolResult)
	if !ok || started.IsError {
		if !accepts && ok {
			// 2025-11-25 has no room for a tool error in CreateTaskResult.
			return nil, rpcError(jsonrpc.CodeInvalidParams, "%s", resultText(started))
		}
		return res, nil
	}
	var out StartTaskOutput
	if raw, ok := started.StructuredContent.(json.RawMessage); !ok || json.Unmarshal(raw, &out) != nil {
		return nil, rpcError(jsonrpc.CodeInternalError, "start_task returned no task_id")
	}
	id, err := uuid.Parse(out.TaskID)
	if err != nil {
		return nil, rpcError(jsonrpc.CodeInternalError, "start_task returned task_id %q", out.TaskID)
	}
	c, err := t.cfg.ClientFunc(ctx, r.Extra)
	if err != nil {
		return nil, rpcError(jsonrpc.CodeInvalidParams, "%s", err)
	}
	v, err := t.view(ctx, c, id)
	if err != nil {
		return nil, t.rpcError(ctx, methodTasksGet, err)
	}
	if accepts {
		return &taskResultV2{ResultType: "task", taskV2: t.v2(v)}, nil
	}
	t.follow(r, c, v)
	created := &createTaskResultV1{Task: t.v1(v)}
	created.SetMeta(map[string]any{metaImmediateResponse: resultText(started)})
	return created, nil
}

// resultText is the text content of a tool result.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// task returns the API client of request r and the task id it names.
func (t *tools) task(ctx context.Context, r taskRequest, id string) (*client.Client, uuid.UUID, error) {
	tid, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return nil, uuid.Nil, rpcError(jsonrpc.CodeInvalidParams, "Failed to retrieve task: taskId %q is not a task id (a UUID that a task-augmented start_task returned)", textcut.Clip(id, 80))
	}
	c, err := t.cfg.ClientFunc(ctx, r.GetExtra())
	if err != nil {
		return nil, uuid.Nil, rpcError(jsonrpc.CodeInvalidParams, "%s", err)
	}
	return c, tid, nil
}

// get serves tasks/get.
func (t *tools) get(ctx context.Context, r taskRequest, id string) (mcp.Result, error) {
	extension, err := taskVersion(r)
	if err != nil {
		return nil, err
	}
	c, tid, err := t.task(ctx, r, id)
	if err != nil {
		return nil, err
	}
	v, err := t.view(ctx, c, tid)
	if err != nil {
		return nil, t.rpcError(ctx, methodTasksGet, err)
	}
	if extension {
		return &taskResultV2{ResultType: "complete", taskV2: t.v2(v)}, nil
	}
	return &taskResultV1{taskV1: t.v1(v)}, nil
}

// result serves tasks/result (2025-11-25): it waits for the task's end on
// its live stream, then answers with its tool result.
func (t *tools) result(ctx context.Context, r taskRequest, id string) (mcp.Result, error) {
	if extension, err := taskVersion(r); err != nil || extension {
		return nil, rpcError(jsonrpc.CodeMethodNotFound, "tasks/result is not part of the %s extension: tasks/get inlines the result", ExtensionTasks)
	}
	c, tid, err := t.task(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if err := waitEnd(ctx, c, tid, nil); err != nil {
		return nil, t.rpcError(ctx, methodTasksResult, err)
	}
	v, err := t.view(ctx, c, tid)
	if err != nil {
		return nil, t.rpcError(ctx, methodTasksResult, err)
	}
	if v.result == nil {
		return nil, rpcError(jsonrpc.CodeInternalError, "task %s has not ended yet; call tasks/result again", tid)
	}
	res := *v.result
	res.Meta = mcp.Meta{metaRelatedTask: map[string]string{"taskId": tid.String()}}
	return &res, nil
}

// cancel serves tasks/cancel: it asks the task to stop and, for
// 2025-11-25, waits up to cancelWait for its end to answer with it.
func (t *tools) cancel(ctx context.Context, r taskRequest, id string) (mcp.Result, error) {
	extension, err := taskVersion(r)
	if err != nil {
		return nil, err
	}
	c, tid, err := t.task(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if !extension {
		// 2025-11-25 refuses to cancel a task that ended, canceled or not;
		// the API's cancel is idempotent for a canceled one.
		st, err := c.TaskStatus(ctx, tid)
		if err != nil {
			return nil, t.rpcError(ctx, methodTasksCancel, err)
		}
		if st.State.Terminal() {
			return nil, rpcError(jsonrpc.CodeInvalidParams, "the task already ended as %s; there is nothing to cancel", st.State)
		}
	}
	if err := c.CancelTask(ctx, tid, ""); err != nil {
		return nil, t.rpcError(ctx, methodTasksCancel, err)
	}
	if extension {
		return &ackResultV2{ResultType: "complete"}, nil
	}
	wctx, stop := context.WithTimeout(ctx, cancelWait)
	defer stop()
	if err := waitEnd(wctx, c, tid, nil); err != nil && ctx.Err() != nil {
		return nil, t.rpcError(ctx, methodTasksCancel, err)
	}
	v, err := t.view(ctx, c, tid)
	if err != nil {
		return nil, t.rpcError(ctx, methodTasksCancel, err)
	}
	return &taskResultV1{taskV1: t.v1(v)}, nil
}

// list serves tasks/list (2025-11-25): the caller's tenant's tasks,
// newest first, a page of DefaultTasksLimit at a time.
func (t *tools) list(ctx context.Context, r taskRequest, cursor string) (mcp.Result, error) {
	if extension, err := taskVersion(r); err != nil || extension {
		return nil, rpcError(jsonrpc.CodeMethodNotFound, "tasks/list is not part of the %s extension", ExtensionTasks)
	}
	if len(cursor) > maxCursorLen {
		return nil, rpcError(jsonrpc.CodeInvalidParams, "cursor is longer than %d bytes: pass back the nextCursor of the previous page", maxCursorLen)
	}
	c, err := t.cfg.ClientFunc(ctx, r.GetExtra())
	if err != nil {
		return nil, rpcError(jsonrpc.CodeInvalidParams, "%s", err)
	}
	page, err := c.ListTasks(ctx, client.ListTasksOptions{Limit: DefaultTasksLimit, Cursor: cursor})
	if err != nil {
		return nil, t.rpcError(ctx, methodTasksList, err)
	}
	res := &listTasksResultV1{Tasks: make([]taskV1, len(page.Tasks))}
	for i, task := range page.Tasks {
		v := taskView{id: task.TaskID, state: task.State, createdAt: task.CreatedAt.Time, lastUpdatedAt: task.CreatedAt.Time}
		for _, at := range []api.Time{task.StartedAt, task.EndedAt} {
			if !at.IsZero() {
				v.lastUpdatedAt = at.Time
			}
		}
		v.message = stateMessage(task, nil, nil)
		res.Tasks[i] = t.v1(v)
	}
	if page.NextCursor != nil && len(page.Tasks) > 0 {
		res.NextCursor = *page.NextCursor
	}
	return res, nil
}

// rpcError is the JSON-RPC error of a task method for an error of the API:
// invalid params for what the caller can change (an unknown task, a task
// that ended, a bad key), internal for the rest.
func (t *tools) rpcError(ctx context.Context, method string, err error) error {
	var apiErr *client.APIError
	var finished *client.TaskFinishedError
	switch {
	case errors.As(err, &finished):
		return rpcError(jsonrpc.CodeInvalidParams, "the task already ended as %s; there is nothing to cancel", finished.State)
	case errors.As(err, &apiErr) && apiErr.Status == 404:
		return rpcError(jsonrpc.CodeInvalidParams, "Failed to retrieve task: no task of yours has this taskId")
	case errors.As(err, &apiErr) && apiErr.Status < 500:
		return rpcError(jsonrpc.CodeInvalidParams, "%s", t.describeAPIError(ctx, method, apiErr))
	}
	return rpcError(jsonrpc.CodeInternalError, "%s", t.describe(ctx, method, err))
}

// waitEnd waits on task id's live stream until it ended, calling onEvent,
// when not nil, with each event. It returns nil once the task ended, the
// error of the stream or of ctx otherwise.
func waitEnd(ctx context.Context, c *client.Client, id uuid.UUID, onEvent func(domain.Event)) error {
	s := c.Stream(ctx, id, client.StreamOptions{})
	defer func() { _ = s.Close() }()
	for {
		e, err := s.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if onEvent != nil {
			onEvent(e)
		}
		if e.Type.Terminal() {
			return nil
		}
	}
}

// follow sends notifications/tasks/status for the task of v, made by
// request r, on its session's connection when it has one (stdio, see
// Transport), each time the task's state or progress changes, until it
// ended or the connection closed; and, when r gave a progress token (which
// stays valid for the task's life), the task's progress as
// notifications/progress.
func (t *tools) follow(r *mcp.CallToolRequest, c *client.Client, v taskView) {
	conn, ok := connOf(r.Session)
	if !ok {
		return
	}
	p := t.progress(r)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-conn.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	go func() {
		defer cancel()
		last := t.v1(v)
		err := waitEnd(ctx, c, v.id, func(e domain.Event) {
			var tp domain.TaskProgress
			if e.Type == domain.TaskProgressType && json.Unmarshal(e.Payload, &tp) == nil {
				p.task(ctx, tp.Percent, tp.Message)
			}
			switch e.Type {
			case domain.TaskStartedType, domain.TaskProgressType, domain.TaskCancelRequestedType,
				domain.TaskAttemptFailedType, domain.TaskQueuedType, domain.TaskWaitingType:
			default:
				if !e.Type.Terminal() {
					return
				}
			}
			now, err := t.view(ctx, c, v.id)
			if err != nil {
				return
			}
			next := t.v1(now)
			if next.Status == last.Status && next.StatusMessage == last.StatusMessage {
				return
			}
			last = next
			if err := conn.notify(ctx, notifyTaskStatus, next); err != nil && ctx.Err() == nil {
				t.cfg.Logger.DebugContext(ctx, "mcp: task status notification failed", "err", err)
			}
		})
		if err != nil && ctx.Err() == nil {
			t.cfg.Logger.WarnContext(ctx, "mcp: follow a task for its status notifications", "task_id", v.id, "err", err)
		}
	}()
}
