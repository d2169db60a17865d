package mcpserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
)

// TaskInput is the input of the tools that take one task:
// get_task_status, cancel_task and verify_task.
type TaskInput struct {
	TaskID string `json:"task_id" jsonschema:"The task's id (a UUID), as start_task or list_tasks returned it."`
}

// TaskStatusOutput is get_task_status's output.
type TaskStatusOutput struct {
	TaskID string `json:"task_id" jsonschema:"The task's id."`
	// State is created, queued, running, succeeded, failed, canceled or
	// timed_out.
	State string `json:"state" jsonschema:"created, queued, running, or how it ended: succeeded, failed, canceled, timed_out."`
	Ended bool   `json:"ended" jsonschema:"Whether the task has ended (its state is succeeded, failed, canceled or timed_out)."`
	// Attempt counts the task's runs (more than 1 after a worker died or
	// a failed attempt was retried).
	Attempt       int    `json:"attempt" jsonschema:"The attempt running or last run, from 1 (more than 1 after a worker died or its retry policy retried a failed attempt)."`
	CreatedAt     string `json:"created_at,omitempty" jsonschema:"When the task was created (RFC 3339, UTC)."`
	StartedAt     string `json:"started_at,omitempty" jsonschema:"When the task last started running, if it did."`
	EndedAt       string `json:"ended_at,omitempty" jsonschema:"When the task ended, if it did."`
	LastSeq       int64  `json:"last_seq" jsonschema:"The seq of the task's last event so far."`
	WaitingReason string `json:"waiting_reason,omitempty" jsonschema:"Why a queued task has not started yet (its tenant runs as many tasks as its plan allows)."`
	NextAttemptAt string `json:"next_attempt_at,omitempty" jsonschema:"When a queued retry is due: a failed attempt's retry waits for its backoff until then (RFC 3339, UTC)."`
}

func (t *tools) addGetTaskStatus(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "get_task_status",
		Title: "Get a task's status",
		Description: "Returns a task's state (created, queued, running, succeeded, failed, canceled, timed_out), its times, " +
			"the seq of its last event, and why it waits when it is queued. To see its output, use read_task_events.",
		Annotations: &mcp.ToolAnnotations{Title: "Get a task's status", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) { taskIDSchema(prop(s, "task_id")) }, t.getTaskStatus)
}

func (t *tools) getTaskStatus(ctx context.Context, c *call, in TaskInput) (TaskStatusOutput, string, error) {
	id, err := parseTaskID(in.TaskID)
	if err != nil {
		return TaskStatusOutput{}, "", err
	}
	st, err := c.api.TaskStatus(ctx, id)
	if err != nil {
		return TaskStatusOutput{}, "", err
	}
	out := statusOutput(st)
	return out, statusText(out), nil
}

// statusOutput is the tool's output for the API's status.
func statusOutput(st api.Task) TaskStatusOutput {
	out := TaskStatusOutput{
		TaskID: st.TaskID.String(), State: string(st.State), Ended: st.State.Terminal(), Attempt: st.Attempt,
		CreatedAt: formatTime(st.CreatedAt), StartedAt: formatTime(st.StartedAt), EndedAt: formatTime(st.EndedAt),
		LastSeq: st.LastSeq, WaitingReason: st.WaitingReason,
	}
	if st.NextAttemptAt != nil {
		out.NextAttemptAt = formatTime(*st.NextAttemptAt)
	}
	return out
}

// statusText describes a status for the model.
func statusText(out TaskStatusOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Task %s: %s (attempt %d, last_seq %d", out.TaskID, out.State, out.Attempt, out.LastSeq)
	for _, f := range []struct{ name, at string }{{"created", out.CreatedAt}, {"started", out.StartedAt}, {"ended", out.EndedAt}} {
		if f.at != "" {
			fmt.Fprintf(&b, ", %s %s", f.name, f.at)
		}
	}
	b.WriteString(").")
	switch {
	case out.WaitingReason != "":
		b.WriteString("\nIt waits to start: " + out.WaitingReason)
	case out.NextAttemptAt != "":
		b.WriteString("\nAn attempt failed; its retry policy runs attempt " + strconv.Itoa(out.Attempt) + " at " + out.NextAttemptAt + ".")
	case out.Ended:
		b.WriteString("\nIt has ended; read_task_events shows its output and its final event.")
	}
	return b.String()
}
