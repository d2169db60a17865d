package mcpserver

import (
	"context"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/domain"
)

// CancelTaskOutput is cancel_task's output.
type CancelTaskOutput struct {
	Canceled bool `json:"canceled" jsonschema:"Always true: the task is canceled or being canceled."`
	// State is the task's state right after the request: canceled, or still
	// running while its worker stops it.
	State string `json:"state" jsonschema:"The task's state right after the request: canceled, or still queued or running while it stops."`
}

func (t *tools) addCancelTask(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "cancel_task",
		Title: "Cancel a task",
		Description: "Stops a task that has not ended. The task stops shortly after: its last event is task.canceled. " +
			"Canceling a task again is harmless; a task that already ended otherwise (succeeded, failed, timed_out) cannot be canceled.",
		Annotations: &mcp.ToolAnnotations{Title: "Cancel a task", DestructiveHint: jsonschema.Ptr(true), IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) { taskIDSchema(prop(s, "task_id")) }, t.cancelTask)
}

func (t *tools) cancelTask(ctx context.Context, c *call, in TaskInput) (CancelTaskOutput, string, error) {
	id, err := parseTaskID(in.TaskID)
	if err != nil {
		return CancelTaskOutput{}, "", err
	}
	if err := c.api.CancelTask(ctx, id, ""); err != nil {
		return CancelTaskOutput{}, "", err
	}
	st, err := c.api.TaskStatus(ctx, id)
	if err != nil {
		return CancelTaskOutput{}, "", err
	}
	out := CancelTaskOutput{Canceled: true, State: string(st.State)}
	if st.State == domain.StateCanceled {
		return out, fmt.Sprintf("Task %s is canceled.", id), nil
	}
	return out, fmt.Sprintf("Cancel requested: task %s is %s and stops shortly; its last event will be task.canceled (read_task_events shows it).", id, st.State), nil
}
