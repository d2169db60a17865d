package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// Bounds of start_task's arguments (the API's, docs/api.md).
const (
	maxTimeoutS          = commands.DefaultMaxTimeoutS
	maxIdempotencyKeyLen = domain.MaxIdentifierLen
)

// StartTaskInput is start_task's input.
type StartTaskInput struct {
	Name           string          `json:"name" jsonschema:"A short name for the task, shown in list_tasks: 1 to 200 characters, no control characters."`
	Adapter        string          `json:"adapter" jsonschema:"What runs the task. \"shell\" runs a command; \"docker\" runs a command in a container of an image; \"mock\" runs a simulated task (for trying things out); \"fly\" runs a command in a Fly.io machine or deploys an image to a Fly app."`
	Args           json.RawMessage `json:"args,omitempty" jsonschema:"The adapter's arguments, a JSON object. shell: {\"command\": [\"prog\", \"arg\", …], \"cwd\": \"dir\", \"env\": {\"K\": \"V\"}}; the command is an argv array run without a shell, so use [\"sh\", \"-c\", \"…\"] for pipes or &&; it runs in a fresh work directory, and cwd is relative to it; an env value is a string or a reference to one of the tenant's secrets, {\"secret\": \"NAME\"}, which the worker resolves when the task runs and masks as *** in its output (create secrets with POST /v1/secrets or axontask secret set NAME); env may not set loader or shell start-up variables (LD_*, BASH_ENV …), and a PATH in it lists only absolute directories outside /work and /tmp; a line \"::progress <percent> <message>\" on stdout reports progress. docker: {\"image\": \"alpine:3.20\", \"command\": [\"prog\", \"arg\", …], \"env\": {\"K\": \"V\", \"TOKEN\": {\"secret\": \"NAME\"}}, \"workdir\": \"/abs/dir\", \"pull\": \"missing\" | \"always\" | \"never\", \"registry_auth\": {\"username\": \"u\", \"password\": {\"secret\": \"NAME\"}}, \"network\": \"none\", \"memory_mb\": 512, \"cpu_milli\": 1000, \"pids\": 128}; only image is required; the container runs as a user that is not root with no capabilities, a read-only root filesystem and writable /work (the default workdir) and /tmp, no network unless the worker allows one and your plan allows egress, within your plan's limits (memory_mb, cpu_milli and pids may only lower them); an env value may be, and the registry password must be, a secret reference {\"secret\": \"NAME\"}. mock: {\"steps\": 10, \"interval_ms\": 100, \"output_lines_per_step\": 1, \"fail_at_step\": 0} (the defaults; fail_at_step 0 never fails). fly: {\"mode\": \"run\", \"app\": \"myapp\", \"image\": \"registry.fly.io/x:1\", \"token\": {\"secret\": \"FLY_TOKEN\"}, \"command\": [\"prog\", \"arg\"], \"env\": {\"K\": \"V\"}, \"region\": \"ams\", \"guest\": {\"cpu_kind\": \"shared\", \"cpus\": 1, \"memory_mb\": 256}} runs a machine once, streams its logs and destroys it; {\"mode\": \"deploy\", \"app\", \"image\", \"token\", \"health_timeout_s\": 300} rolls the app's machines to the image one at a time and stops at the first that fails; the token must be a secret reference {\"secret\": \"NAME\"} (env values may be too)."`
	TimeoutS       int             `json:"timeout_s,omitempty" jsonschema:"Seconds the task may run before it is stopped (task.timed_out). Omit it for the smaller of one hour and your plan's limit."`
	IdempotencyKey string          `json:"idempotency_key,omitempty" jsonschema:"Optional key that makes the start safe to retry: a second start_task with the same key returns the first task instead of starting another."`
	Retry          *RetryInput     `json:"retry,omitempty" jsonschema:"Optional: run the task again after an attempt fails (nonzero exit status, a process that could not start), waiting initial_interval_ms, then backoff_coefficient times longer each time, up to max_interval_ms. Omit it to run the task once. A timeout or a cancel is not retried."`
	OnInterrupt    string          `json:"on_interrupt,omitempty" jsonschema:"What happens when the worker running the task dies: \"retry\" (the default) runs it again from the start; \"fail\" fails it, so that it never runs twice (for tasks that must not repeat, like a deployment or a payment)."`
}

// RetryInput is start_task's retry policy (domain.RetryPolicy, Temporal's
// names).
type RetryInput struct {
	MaxAttempts           int     `json:"max_attempts" jsonschema:"Attempts in all, the first included (1 to 100)."`
	InitialIntervalMS     int     `json:"initial_interval_ms,omitempty" jsonschema:"Milliseconds before the second attempt (default 1000)."`
	BackoffCoefficient    float64 `json:"backoff_coefficient,omitempty" jsonschema:"What each wait is multiplied by, 1 to 10 (default 2)."`
	MaxIntervalMS         int     `json:"max_interval_ms,omitempty" jsonschema:"The longest wait in milliseconds (default 100 times initial_interval_ms)."`
	NonRetryableExitCodes []int   `json:"non_retryable_exit_codes,omitempty" jsonschema:"Exit statuses that end the task at once, without retrying."`
}

// StartTaskOutput is start_task's output.
type StartTaskOutput struct {
	TaskID      string `json:"task_id" jsonschema:"The task's id: pass it to the other tools."`
	StreamURL   string `json:"stream_url" jsonschema:"The path of the task's Server-Sent Events stream on the AxonTask HTTP API."`
	ResumeToken string `json:"resume_token,omitempty" jsonschema:"A token granting read-only access to this one task over HTTP (?token=); keep it secret. Absent from the result of start_task run as an MCP task."`
	// State is the task's final state in the result of start_task run as
	// an MCP task; empty in the plain call's answer.
	State string `json:"state,omitempty" jsonschema:"How the task ended (succeeded, failed, canceled, timed_out), in the result of start_task run as an MCP task; absent from the plain call's answer."`
}

func (t *tools) addStartTask(s *mcp.Server) error {
	return addTool(s, t, &mcp.Tool{
		Name:  "start_task",
		Title: "Start a background task",
		Description: "Starts a long-running task (a shell command, a command in a docker container, a mock task, or a Fly.io machine run or deploy) in the background and returns at once with its task_id. " +
			"Then follow it with read_task_events (since_seq 0, then each answer's next_seq) until ended is true, or check it with get_task_status.",
		Annotations: &mcp.ToolAnnotations{Title: "Start a background task", DestructiveHint: jsonschema.Ptr(false), OpenWorldHint: jsonschema.Ptr(true)},
	}, func(s *jsonschema.Schema) {
		name := prop(s, "name")
		name.MinLength, name.MaxLength = jsonschema.Ptr(1), jsonschema.Ptr(domain.MaxTaskNameLen)
		prop(s, "adapter").Enum = []any{string(domain.AdapterShell), string(domain.AdapterDocker), string(domain.AdapterMock), string(domain.AdapterFly)}
		bounds(prop(s, "timeout_s"), 1, maxTimeoutS, nil)
		key := prop(s, "idempotency_key")
		key.MinLength, key.MaxLength = jsonschema.Ptr(1), jsonschema.Ptr(maxIdempotencyKeyLen)
		prop(s, "on_interrupt").Enum = []any{string(domain.OnInterruptRetry), string(domain.OnInterruptFail)}
		retry := prop(s, "retry")
		retry.AdditionalProperties = &jsonschema.Schema{Not: &jsonschema.Schema{}}
		bounds(prop(retry, "max_attempts"), 1, domain.MaxRetryAttempts, nil)
		bounds(prop(retry, "initial_interval_ms"), 0, domain.MaxRetryIntervalMS, nil)
		bounds(prop(retry, "max_interval_ms"), 0, domain.MaxRetryIntervalMS, nil)
		backoff := prop(retry, "backoff_coefficient")
		backoff.Minimum, backoff.Maximum = jsonschema.Ptr(0.0), jsonschema.Ptr(domain.MaxRetryBackoffCoefficient)
		codes := prop(retry, "non_retryable_exit_codes")
		codes.MaxItems = jsonschema.Ptr(domain.MaxNonRetryableExitCodes)
		bounds(codes.Items, 1, 255, nil)
	}, t.startTask)
}

func (t *tools) startTask(ctx context.Context, c *call, in StartTaskInput) (StartTaskOutput, string, error) {
	st, err := c.api.StartTask(ctx, client.StartTaskRequest{
		Name:           in.Name,
		Adapter:        domain.Adapter(in.Adapter),
		Args:           in.Args,
		Timeout:        time.Duration(in.TimeoutS) * time.Second,
		IdempotencyKey: in.IdempotencyKey,
		Retry:          in.Retry.policy(),
		OnInterrupt:    domain.OnInterrupt(in.OnInterrupt),
	})
	if err != nil {
		return StartTaskOutput{}, "", err
	}
	out := StartTaskOutput{TaskID: st.TaskID.String(), StreamURL: st.StreamURL, ResumeToken: st.ResumeToken}
	text := fmt.Sprintf("Started task %s (%s, %q).\n"+
		"Follow it with read_task_events {\"task_id\": %q, \"since_seq\": 0}, then pass each answer's next_seq as since_seq until ended is true; get_task_status tells its state.\n"+
		"Its events are also the resource %s. The structured result holds a resume_token, read-only access to this task over HTTP (stream_url %s); keep it secret.",
		out.TaskID, in.Adapter, in.Name, out.TaskID, eventsURI(out.TaskID), out.StreamURL)
	return out, text, nil
}

// policy returns the retry policy r gives; nil for nil.
func (r *RetryInput) policy() *domain.RetryPolicy {
	if r == nil {
		return nil
	}
	return &domain.RetryPolicy{MaxAttempts: r.MaxAttempts, InitialIntervalMS: r.InitialIntervalMS, BackoffCoefficient: r.BackoffCoefficient,
		MaxIntervalMS: r.MaxIntervalMS, NonRetryableExitCodes: r.NonRetryableExitCodes}
}
