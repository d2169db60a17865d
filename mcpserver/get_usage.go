package mcpserver

import (
	"context"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
)

// GetUsageInput is get_usage's input.
type GetUsageInput struct {
	Period string `json:"period,omitempty" jsonschema:"A month as YYYY-MM; omit it for the current month."`
}

// GetUsageOutput is get_usage's output: GET /v1/usage's answer.
type GetUsageOutput struct {
	Period        string `json:"period" jsonschema:"The month counted, YYYY-MM."`
	From          string `json:"from" jsonschema:"Its first UTC day."`
	To            string `json:"to" jsonschema:"Its last UTC day."`
	TaskMinutes   int64  `json:"task_minutes" jsonschema:"Minutes your tasks ran, a started minute counting as one."`
	TasksStarted  int64  `json:"tasks_started" jsonschema:"Tasks started."`
	StreamsOpened int64  `json:"streams_opened" jsonschema:"SSE streams opened."`
	BytesStreamed int64  `json:"bytes_streamed" jsonschema:"Bytes those streams sent."`
	MCPCalls      int64  `json:"mcp_calls" jsonschema:"MCP tool calls made."`
	OutputBytes   int64  `json:"output_bytes" jsonschema:"Bytes of your tasks' output."`
}

func (t *tools) addGetUsage(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "get_usage",
		Title: "Get usage",
		Description: "Tells how much your tenant has used in a month (this month by default): task-minutes, tasks started, streams and the bytes they sent, MCP calls, output bytes. " +
			"Use it to keep within a budget. The counts follow the task log a moment behind, and streams and MCP calls up to a minute behind.",
		Annotations: &mcp.ToolAnnotations{Title: "Get usage", ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: jsonschema.Ptr(false)},
	}, func(s *jsonschema.Schema) {
		prop(s, "period").Pattern = `^[0-9]{4}-(0[1-9]|1[0-2])$`
	}, t.getUsage)
}

func (t *tools) getUsage(ctx context.Context, c *call, in GetUsageInput) (GetUsageOutput, string, error) {
	u, err := c.api.Usage(ctx, client.UsageOptions{Period: in.Period})
	if err != nil {
		return GetUsageOutput{}, "", err
	}
	out := usageOutput(u)
	text := fmt.Sprintf("Usage of %s (%s to %s): %d task-minutes, %d tasks started, %d streams opened, %d bytes streamed, %d MCP calls, %d output bytes.",
		out.Period, out.From, out.To, out.TaskMinutes, out.TasksStarted, out.StreamsOpened, out.BytesStreamed, out.MCPCalls, out.OutputBytes)
	return out, text, nil
}

func usageOutput(u api.Usage) GetUsageOutput {
	return GetUsageOutput{Period: u.Period, From: u.From, To: u.To, TaskMinutes: u.TaskMinutes, TasksStarted: u.TasksStarted,
		StreamsOpened: u.StreamsOpened, BytesStreamed: u.BytesStreamed, MCPCalls: u.MCPCalls, OutputBytes: u.OutputBytes}
}
