package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/textcut"
)

// call is one tool call: its request and the API client that serves it.
type call struct {
	req *mcp.CallToolRequest
	api *client.Client
}

// handler handles a call with its validated input, returning the typed
// output and a readable text of it, or an error that the caller sees as a
// tool error (see describe).
type handler[In, Out any] func(ctx context.Context, c *call, in In) (Out, string, error)

// typeSchemas are the schemas of the types that jsonschema does not infer
// as they are written: JSON values kept verbatim are objects.
var typeSchemas = map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[json.RawMessage](): {Type: "object"},
}

// addTool adds tool to s with input and output schemas inferred from In and
// Out (refine adds bounds, enums and defaults to the input schema) and h as
// its handler. Unlike mcp.AddTool, its argument errors say what to change,
// and its text content is h's readable text rather than the output's JSON.
func addTool[In, Out any](s *mcp.Server, t *tools, tool *mcp.Tool, refine func(*jsonschema.Schema), h handler[In, Out]) error {
	in, err := jsonschema.For[In](&jsonschema.ForOptions{TypeSchemas: typeSchemas})
	if err != nil {
		return fmt.Errorf("tool %s: input schema: %w", tool.Name, err)
	}
	if refine != nil {
		refine(in)
	}
	resolved, err := in.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		return fmt.Errorf("tool %s: input schema: %w", tool.Name, err)
	}
	out, err := jsonschema.For[Out](&jsonschema.ForOptions{TypeSchemas: typeSchemas})
	if err != nil {
		return fmt.Errorf("tool %s: output schema: %w", tool.Name, err)
	}
	arraysNotNull(out)
	tool.InputSchema, tool.OutputSchema = in, out
	name := tool.Name
	s.AddTool(tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		t.called(req)
		args, err := validateArgs(req.Params.Arguments, resolved)
		if err != nil {
			return toolError(fmt.Sprintf("%s: invalid arguments: %s. Change them to fit the tool's input schema.", name, err)), nil
		}
		var input In
		if err := json.Unmarshal(args, &input); err != nil {
			return toolError(fmt.Sprintf("%s: invalid arguments: %s. Change them to fit the tool's input schema.", name, err)), nil
		}
		api, err := t.cfg.ClientFunc(ctx, req.Extra)
		if err != nil {
			return toolError(name + ": " + err.Error()), nil
		}
		output, text, err := h(ctx, &call{req: req, api: api}, input)
		if err != nil {
			return toolError(t.describe(ctx, name, err)), nil
		}
		b, err := json.Marshal(output)
		if err != nil {
			return nil, fmt.Errorf("%s: encode the output: %w", name, err)
		}
		return &mcp.CallToolResult{
			Content:           []mcp.Content{&mcp.TextContent{Text: text}},
			StructuredContent: json.RawMessage(b),
		}, nil
	})
	return nil
}

// called tells Config.CalledFunc of a call whose credential
// NewHTTPHandler checked (its token info names the tenant).
func (t *tools) called(req *mcp.CallToolRequest) {
	if t.cfg.CalledFunc == nil || req.Extra == nil || req.Extra.TokenInfo == nil {
		return
	}
	if tenantID, ok := req.Extra.TokenInfo.Extra["tenant_id"].(string); ok {
		t.cfg.CalledFunc(tenantID)
	}
}

// validateArgs checks the arguments of a call against the tool's input
// schema and returns them as a JSON object with the schema's defaults added
// for the top-level properties that are missing. Arguments are decoded from
// these bytes, not from a re-encoding of the validated value, so that the
// numbers inside args stay exact.
func validateArgs(raw json.RawMessage, resolved *jsonschema.Resolved) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errors.New("the arguments must be one JSON object")
	}
	var value any
	if err := json.Unmarshal(raw, &value); err != nil {
		return nil, errors.New("the arguments must be one JSON object")
	}
	if err := resolved.Validate(&value); err != nil {
		return nil, errors.New(tidySchemaError(err))
	}
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	for name, p := range resolved.Schema().Properties {
		if _, ok := fields[name]; !ok && p.Default != nil {
			fields[name] = p.Default
		}
	}
	return json.Marshal(fields)
}

var (
	// schemaPath matches the locations jsonschema names in its errors.
	schemaPath = regexp.MustCompile(`validating (root|/properties/[^:]*): `)
	// wholeNumber matches the numbers jsonschema prints as floats
	// (500.000000) or fractions (501/1).
	wholeNumber = regexp.MustCompile(`\b(\d+)(\.0+|/1)\b`)
)

// tidySchemaError turns jsonschema's chain of locations into the property
// at fault and what is wrong with it: "limit: maximum: 600 is greater than
// 500".
func tidySchemaError(err error) string {
	msg := err.Error()
	prop := ""
	for _, m := range schemaPath.FindAllStringSubmatch(msg, -1) {
		if p, ok := strings.CutPrefix(m[1], "/properties/"); ok {
			prop = strings.ReplaceAll(p, "/properties/", ".")
		}
	}
	msg = schemaPath.ReplaceAllString(msg, "")
	msg = wholeNumber.ReplaceAllString(msg, "$1")
	if prop != "" {
		return prop + ": " + msg
	}
	return msg
}

// toolError is a tool result that reports a failure to the model.
func toolError(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// inputError is a handler's error about its arguments; its text says what
// to change.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// parseTaskID parses a task_id argument.
func parseTaskID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, &inputError{fmt.Sprintf("task_id %q is not a task id: give the UUID (like 0190f5e4-7c3a-7d1e-9b1a-2f6c1e0b9a11) that start_task or list_tasks returned", textcut.Clip(s, 80))}
	}
	return id, nil
}

// describe returns the text of a tool error: what went wrong and what to
// change. API answers say what the server said; 5xx answers and
// unreachable servers are also logged.
func (t *tools) describe(ctx context.Context, tool string, err error) string {
	var in *inputError
	var apiErr *client.APIError
	var finished *client.TaskFinishedError
	var urlErr *url.Error
	switch {
	case errors.As(err, &in):
		return tool + ": " + in.msg
	case errors.As(err, &finished):
		return fmt.Sprintf("%s: the task already ended as %s; there is nothing to cancel", tool, finished.State)
	case errors.As(err, &apiErr):
		return tool + ": " + t.describeAPIError(ctx, tool, apiErr)
	case ctx.Err() != nil:
		return fmt.Sprintf("%s: the call was canceled or timed out (%v); call again", tool, context.Cause(ctx))
	case errors.As(err, &urlErr):
		t.cfg.Logger.WarnContext(ctx, "mcp tool: API unreachable", "tool", tool, "err", err)
		return fmt.Sprintf("%s: the AxonTask API could not be reached (%v); check that the server runs and that AXONTASK_URL points at it, then call again", tool, err)
	default:
		t.cfg.Logger.ErrorContext(ctx, "mcp tool failed", "tool", tool, "err", err)
		return fmt.Sprintf("%s: %v", tool, err)
	}
}

// describeAPIError says what an API answer that is not 2xx means for the
// caller, naming tool arguments rather than HTTP fields.
func (t *tools) describeAPIError(ctx context.Context, tool string, e *client.APIError) string {
	detail := e.Detail
	if detail == "" {
		detail = e.Title
	}
	switch {
	case e.Status == 401:
		return "the API key is missing or invalid (the server answered 401: " + detail + "). " +
			"Give a valid AxonTask API key: AXONTASK_API_KEY for `axontask mcp`, or the header Authorization: Bearer <API key> over HTTP; `axontask dev` prints one, POST /v1/api-keys makes one."
	case e.Status == 403:
		return "the API key may not do this (403: " + detail + "); use a key with the scope it needs (tasks:read to read, tasks:write to start and cancel)."
	case e.Status == 404:
		return "no task of yours has this task_id (the server answered 404: " + detail + "). Check the task_id; list_tasks lists your tasks."
	case e.Status == 429:
		msg := "the server refused for now (429: " + detail + ")"
		if e.RetryAfter > 0 {
			msg += fmt.Sprintf("; call again in %s", e.RetryAfter.Round(time.Second))
		}
		return msg
	case e.Status >= 400 && e.Status < 500:
		if f := argumentName(e.Field); f != "" {
			return fmt.Sprintf("invalid %s: %s (the server answered %d %s); change %s and call again.", f, detail, e.Status, e.Title, f)
		}
		return fmt.Sprintf("the server refused the call (%d %s): %s", e.Status, e.Title, detail)
	default:
		t.cfg.Logger.WarnContext(ctx, "mcp tool: API failed", "tool", tool, "status", e.Status, "request_id", e.RequestID, "err", e)
		return fmt.Sprintf("the AxonTask server failed (%d %s: %s); call again later", e.Status, e.Title, detail)
	}
}

// argumentName maps a problem's field to the tool argument it came from.
func argumentName(field string) string {
	switch field {
	case "id":
		return "task_id"
	case "Idempotency-Key", "command_id":
		return "idempotency_key"
	case "body":
		return "the arguments"
	}
	return field
}

// formatTime renders an optional time for outputs: RFC 3339 UTC with
// microseconds, empty when zero.
func formatTime(t api.Time) string {
	if t.IsZero() {
		return ""
	}
	return domain.FormatTime(t.Time)
}

// arraysNotNull declares the slices of an output schema arrays: jsonschema
// allows null for every slice, but outputs always hold an array.
func arraysNotNull(s *jsonschema.Schema) {
	if slices.Equal(s.Types, []string{"null", "array"}) {
		s.Type, s.Types = "array", nil
	}
	for _, p := range s.Properties {
		arraysNotNull(p)
	}
	if s.Items != nil {
		arraysNotNull(s.Items)
	}
}

// prop returns the schema of property name of s, which must exist.
func prop(s *jsonschema.Schema, name string) *jsonschema.Schema {
	p, ok := s.Properties[name]
	if !ok {
		panic("mcpserver: no property " + name)
	}
	return p
}

// bounds sets an integer property's minimum, maximum and, when def is not
// nil, default.
func bounds(p *jsonschema.Schema, lo, hi int64, def *int64) {
	p.Minimum, p.Maximum = jsonschema.Ptr(float64(lo)), jsonschema.Ptr(float64(hi))
	if def != nil {
		p.Default = json.RawMessage(fmt.Sprint(*def))
	}
}

// taskIDSchema describes a task_id property.
func taskIDSchema(p *jsonschema.Schema) {
	p.Format = "uuid"
	p.MinLength, p.MaxLength = jsonschema.Ptr(1), jsonschema.Ptr(64)
}
