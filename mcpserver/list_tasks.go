package mcpserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/textcut"
)

// Bounds and defaults of list_tasks (the API's, docs/api.md).
const (
	DefaultTasksLimit = 20
	MaxTasksLimit     = 100
	maxCursorLen      = 512
	maxTimeLen        = 64
)

// ListTasksInput is list_tasks' input.
type ListTasksInput struct {
	State  string `json:"state,omitempty" jsonschema:"Only the tasks in this state; omit it for all."`
	Limit  int    `json:"limit,omitempty" jsonschema:"The most tasks to return, 1 to 100."`
	Cursor string `json:"cursor,omitempty" jsonschema:"The next_cursor of the previous answer, for the next page (pass the same state and created_after and created_before with it); omit it for the first."`
	// CreatedAfter and CreatedBefore bound the tasks' creation times.
	CreatedAfter  string `json:"created_after,omitempty" jsonschema:"Only the tasks created after this time (RFC 3339, like 2026-12-07T18:00:00Z); omit it for no bound."`
	CreatedBefore string `json:"created_before,omitempty" jsonschema:"Only the tasks created before this time (RFC 3339); omit it for no bound."`
}

// TaskSummary is a task in list_tasks' output.
type TaskSummary struct {
	TaskID    string `json:"task_id" jsonschema:"The task's id."`
	Name      string `json:"name" jsonschema:"The name it was started with."`
	Adapter   string `json:"adapter" jsonschema:"What runs it: shell, docker or mock."`
	State     string `json:"state" jsonschema:"created, queued, running, succeeded, failed, canceled or timed_out."`
	Attempt   int    `json:"attempt" jsonschema:"How many times it was started."`
	CreatedAt string `json:"created_at,omitempty" jsonschema:"When it was created (RFC 3339, UTC)."`
	StartedAt string `json:"started_at,omitempty" jsonschema:"When it last started running, if it did."`
	EndedAt   string `json:"ended_at,omitempty" jsonschema:"When it ended, if it did."`
	LastSeq   int64  `json:"last_seq" jsonschema:"The seq of its last event."`
}

// ListTasksOutput is list_tasks' output.
type ListTasksOutput struct {
	Tasks []TaskSummary `json:"tasks" jsonschema:"The tasks, newest first."`
	// NextCursor, when not empty, is the cursor of the next page.
	NextCursor string `json:"next_cursor" jsonschema:"Pass it as cursor for the next page; empty when there is none."`
}

// taskStates are the states list_tasks filters on.
var taskStates = []domain.TaskState{
	domain.StateCreated, domain.StateQueued, domain.StateRunning,
	domain.StateSucceeded, domain.StateFailed, domain.StateCanceled, domain.StateTimedOut,
}

func (t *tools) addListTasks(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "list_tasks",
		Title: "List tasks",
		Description: "Lists your tasks, newest first, optionally only those in one state or created within a time range, a page at a time (pass next_cursor back as cursor). " +
			"The list follows the task log a moment behind: a task started a moment ago may be missing; get_task_status is always current.",
		Annotations: &mcp.ToolAnnotations{Title: "List tasks", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) {
		state := prop(s, "state")
		for _, st := range taskStates {
			state.Enum = append(state.Enum, string(st))
		}
		limit := int64(DefaultTasksLimit)
		bounds(prop(s, "limit"), 1, MaxTasksLimit, &limit)
		prop(s, "cursor").MaxLength = jsonschema.Ptr(maxCursorLen)
		for _, name := range []string{"created_after", "created_before"} {
			p := prop(s, name)
			p.Format, p.MaxLength = "date-time", jsonschema.Ptr(maxTimeLen)
		}
	}, t.listTasks)
}

func (t *tools) listTasks(ctx context.Context, c *call, in ListTasksInput) (ListTasksOutput, string, error) {
	opts := client.ListTasksOptions{State: domain.TaskState(in.State), Limit: in.Limit, Cursor: in.Cursor}
	for _, bound := range []struct {
		name, value string
		to          *time.Time
	}{{"created_after", in.CreatedAfter, &opts.CreatedAfter}, {"created_before", in.CreatedBefore, &opts.CreatedBefore}} {
		if bound.value == "" {
			continue
		}
		at, err := api.ParseTimeParam(bound.name, bound.value)
		if err != nil {
			return ListTasksOutput{}, "", err
		}
		*bound.to = at
	}
	page, err := c.api.ListTasks(ctx, opts)
	if err != nil {
		return ListTasksOutput{}, "", err
	}
	out := ListTasksOutput{Tasks: make([]TaskSummary, len(page.Tasks))}
	if page.NextCursor != nil {
		out.NextCursor = *page.NextCursor
	}
	var b strings.Builder
	switch {
	case len(page.Tasks) == 0 && in.Cursor != "":
		b.WriteString("No more tasks.")
	case len(page.Tasks) == 0:
		b.WriteString("No tasks.")
	case len(page.Tasks) == 1:
		b.WriteString("1 task:\n")
	default:
		fmt.Fprintf(&b, "%d tasks, newest first:\n", len(page.Tasks))
	}
	for i, task := range page.Tasks {
		out.Tasks[i] = TaskSummary{
			TaskID: task.TaskID.String(), Name: task.Name, Adapter: string(task.Adapter), State: string(task.State), Attempt: task.Attempt,
			CreatedAt: formatTime(task.CreatedAt), StartedAt: formatTime(task.StartedAt), EndedAt: formatTime(task.EndedAt), LastSeq: task.LastSeq,
		}
		fmt.Fprintf(&b, "%s %q (%s) %s, created %s, last_seq %d\n", task.TaskID, textcut.Clip(task.Name, 200), task.Adapter, task.State, out.Tasks[i].CreatedAt, task.LastSeq)
	}
	if out.NextCursor != "" {
		fmt.Fprintf(&b, "More may follow: call list_tasks with cursor %q and the same state, created_after and created_before.", out.NextCursor)
	}
	return out, strings.TrimSuffix(b.String(), "\n"), nil
}
