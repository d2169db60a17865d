package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Adapter names an executor kind. Adapter names are stored in task.created
// and never renamed.
type Adapter string

// Adapters.
const (
	AdapterMock   Adapter = "mock"
	AdapterShell  Adapter = "shell"
	AdapterDocker Adapter = "docker"
	AdapterFly    Adapter = "fly"
)

// Limits on task input.
const (
	MaxTaskNameLen  = 200
	MaxArgsBytes    = 64 << 10
	MaxArgvItems    = 1000
	MaxArgBytes     = 32 << 10
	MaxEnvVars      = 200
	MaxMockSteps    = 100_000
	MaxMockInterval = 60_000 // ms
	MaxMockLines    = 1000
)

// MockArgs are the arguments of the mock adapter: a deterministic task for
// tests and demos that runs Steps steps, IntervalMS apart, printing
// OutputLinesPerStep lines each, and fails at step FailAtStep (0 = never).
type MockArgs struct {
	Steps              int `json:"steps"`
	IntervalMS         int `json:"interval_ms"`
	OutputLinesPerStep int `json:"output_lines_per_step"`
	FailAtStep         int `json:"fail_at_step"`
}

// ShellArgs are the arguments of the shell adapter. Command is an argv
// array run without a shell (["sh", "-c", "…"] when a shell is wanted); Cwd
// is the working directory (absolute, or relative to the worker's); Env adds
// variables to the worker's allow-listed environment.
type ShellArgs struct {
	Command []string          `json:"command"`
	Cwd     string            `json:"cwd,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// ParseArgs decodes and validates the args of adapter a. Unknown fields and
// wrong types are rejected with the field named; the result is *MockArgs or
// *ShellArgs. Adapters that this build cannot run yet are rejected.
func ParseArgs(a Adapter, raw json.RawMessage) (any, error) {
	if len(raw) > MaxArgsBytes {
		return nil, &ValidationError{Field: "args", Reason: fmt.Sprintf("is %d bytes; the limit is %d", len(raw), MaxArgsBytes)}
	}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	switch a {
	case AdapterMock:
		args := MockArgs{Steps: 10, IntervalMS: 100, OutputLinesPerStep: 1}
		if err := decodeStrict(raw, &args, "steps", "interval_ms", "output_lines_per_step", "fail_at_step"); err != nil {
			return nil, err
		}
		return &args, args.Validate()
	case AdapterShell:
		var args ShellArgs
		if err := decodeStrict(raw, &args, "command", "cwd", "env"); err != nil {
			return nil, err
		}
		return &args, args.Validate()
	case AdapterDocker, AdapterFly:
		return nil, &ValidationError{Field: "adapter", Reason: fmt.Sprintf("%q is not available in this build yet; use \"shell\" or \"mock\"", a)}
	default:
		return nil, &ValidationError{Field: "adapter", Reason: fmt.Sprintf("%q is unknown; use one of \"mock\", \"shell\"", a)}
	}
}

// decodeStrict decodes one JSON object whose member names are exactly among
// fields (case-sensitive, each at most once) into v, naming the offending
// field of an unknown field or a wrong type.
func decodeStrict(raw json.RawMessage, v any, fields ...string) error {
	if err := checkMembers(raw, fields); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return &ValidationError{Field: "args." + typeErr.Field, Reason: fmt.Sprintf("must be %s, not %s", JSONKind(typeErr.Type.Kind().String()), typeErr.Value)}
		case errors.As(err, &syntaxErr):
			return &ValidationError{Field: "args", Reason: "is not valid JSON: " + syntaxErr.Error()}
		default:
			return &ValidationError{Field: "args", Reason: "must be a JSON object: " + err.Error()}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &ValidationError{Field: "args", Reason: "must hold exactly one JSON object"}
	}
	return nil
}

// checkMembers rejects anything but a JSON object whose member names are
// among fields, exactly (encoding/json would match them case-insensitively
// and let a repeated member win silently).
func checkMembers(raw json.RawMessage, fields []string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return &ValidationError{Field: "args", Reason: "is not valid JSON: " + err.Error()}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &ValidationError{Field: "args", Reason: "must be an object, like {\"command\": [\"make\", \"test\"]}"}
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &ValidationError{Field: "args", Reason: "is not valid JSON: " + err.Error()}
		}
		name, _ := tok.(string)
		if !slices.Contains(fields, name) {
			return &ValidationError{Field: "args." + name, Reason: "is not a known argument of this adapter (names are case-sensitive)"}
		}
		if seen[name] {
			return &ValidationError{Field: "args." + name, Reason: "appears twice"}
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return &ValidationError{Field: "args", Reason: "is not valid JSON: " + err.Error()}
		}
	}
	return nil
}

// JSONKind names a Go kind (reflect.Kind's String) the way a JSON client
// thinks of it, for error messages: "an integer", "a string", "an array" …
func JSONKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "slice":
		return "an array"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return "of another type"
}

// Validate checks the arguments against the mock adapter's limits.
func (a *MockArgs) Validate() error {
	switch {
	case a.Steps < 1 || a.Steps > MaxMockSteps:
		return &ValidationError{Field: "args.steps", Reason: fmt.Sprintf("must be between 1 and %d", MaxMockSteps)}
	case a.IntervalMS < 0 || a.IntervalMS > MaxMockInterval:
		return &ValidationError{Field: "args.interval_ms", Reason: fmt.Sprintf("must be between 0 and %d", MaxMockInterval)}
	case a.OutputLinesPerStep < 0 || a.OutputLinesPerStep > MaxMockLines:
		return &ValidationError{Field: "args.output_lines_per_step", Reason: fmt.Sprintf("must be between 0 and %d", MaxMockLines)}
	case a.FailAtStep < 0 || a.FailAtStep > a.Steps:
		return &ValidationError{Field: "args.fail_at_step", Reason: "must be between 0 (never fails) and steps"}
	}
	return nil
}

// Validate checks the arguments against the shell adapter's limits.
func (a *ShellArgs) Validate() error {
	if len(a.Command) == 0 || a.Command[0] == "" {
		return &ValidationError{Field: "args.command", Reason: `must be a non-empty argv array, like ["make", "test"] (use ["sh", "-c", "…"] for a shell)`}
	}
	if len(a.Command) > MaxArgvItems {
		return &ValidationError{Field: "args.command", Reason: fmt.Sprintf("has %d items; the limit is %d", len(a.Command), MaxArgvItems)}
	}
	for i, arg := range a.Command {
		if len(arg) > MaxArgBytes || !utf8.ValidString(arg) || strings.ContainsRune(arg, 0) {
			return &ValidationError{Field: fmt.Sprintf("args.command[%d]", i), Reason: fmt.Sprintf("must be valid UTF-8 without NUL, at most %d bytes", MaxArgBytes)}
		}
	}
	if strings.ContainsRune(a.Cwd, 0) || len(a.Cwd) > MaxArgBytes {
		return &ValidationError{Field: "args.cwd", Reason: fmt.Sprintf("must be a directory path without NUL, at most %d bytes", MaxArgBytes)}
	}
	if len(a.Env) > MaxEnvVars {
		return &ValidationError{Field: "args.env", Reason: fmt.Sprintf("has %d variables; the limit is %d", len(a.Env), MaxEnvVars)}
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) { // sorted: the same input names the same error
		v := a.Env[k]
		if !ValidEnvName(k) {
			return &ValidationError{Field: "args.env", Reason: fmt.Sprintf("name %q must match [A-Za-z_][A-Za-z0-9_]*", k)}
		}
		if len(v) > MaxArgBytes || strings.ContainsRune(v, 0) {
			return &ValidationError{Field: "args.env." + k, Reason: fmt.Sprintf("must be at most %d bytes without NUL", MaxArgBytes)}
		}
	}
	return nil
}

// ValidEnvName reports whether k is a portable environment variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func ValidEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
