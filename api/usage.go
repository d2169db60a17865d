package api

// UsageCounts are a tenant's metered quantities over some UTC days.
type UsageCounts struct {
	// TaskMinutes is TaskRunMS in whole minutes, a started minute
	// counting as one (of the whole range, not per day or task).
	TaskMinutes int64 `json:"task_minutes"`
	// TaskRunMS is the time the tenant's tasks ran, in milliseconds: each
	// attempt from its start to its end, on the UTC day it ended.
	TaskRunMS int64 `json:"task_run_ms"`
	// TasksStarted counts the tasks created.
	TasksStarted int64 `json:"tasks_started"`
	// StreamsOpened counts the SSE streams opened (task streams and the
	// tenant's event feed); BytesStreamed the bytes they sent.
	StreamsOpened int64 `json:"streams_opened"`
	BytesStreamed int64 `json:"bytes_streamed"`
	// MCPCalls counts MCP tool calls.
	MCPCalls int64 `json:"mcp_calls"`
	// OutputBytes is the bytes of the tasks' output.
	OutputBytes int64 `json:"output_bytes"`
}

// Usage answers GET /v1/usage: the caller's tenant's usage over a month
// (?period=YYYY-MM) or a range of UTC days (?from=&to=), from the usage
// counters read model, which lags the log by the projection's delay and
// the read-side counts by the API processes' flush interval.
type Usage struct {
	// Period is the month asked for ("2026-12"), or empty for a range of
	// days.
	Period string `json:"period,omitempty"`
	// From and To are the first and the last UTC day counted ("2026-12-01").
	From string `json:"from"`
	To   string `json:"to"`
	UsageCounts
	// Days are the days with usage, in order, each with its own counts.
	Days []UsageDay `json:"days"`
}

// UsageDay is one UTC day of a Usage.
type UsageDay struct {
	// Day is the UTC date ("2026-12-07").
	Day string `json:"day"`
	UsageCounts
}
