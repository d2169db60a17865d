package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"reflect"
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
// FailAttempts, when above 0, makes only the task's first FailAttempts
// attempts fail (at FailAtStep, or after the last step when that is 0)
// and the later ones succeed: a flaky task, for trying retry policies.
type MockArgs struct {
	Steps              int `json:"steps"`
	IntervalMS         int `json:"interval_ms"`
	OutputLinesPerStep int `json:"output_lines_per_step"`
	FailAtStep         int `json:"fail_at_step"`
	FailAttempts       int `json:"fail_attempts,omitempty"`
}

// FailsAt returns the step at which attempt (from 1) of the task fails,
// 0 when it does not fail.
func (a *MockArgs) FailsAt(attempt int) int {
	switch {
	case a.FailAttempts == 0:
		return a.FailAtStep
	case attempt > a.FailAttempts:
		return 0
	case a.FailAtStep > 0:
		return a.FailAtStep
	default:
		return a.Steps
	}
}

// ShellWorkDir is where a shell task's work directory is inside its
// sandbox: every task gets a fresh one, and args.cwd is relative to it.
const ShellWorkDir = "/work"

// ShellArgs are the arguments of the shell adapter. Command is an argv
// array run without a shell (["sh", "-c", "…"] when a shell is wanted); Cwd
// is the command's directory relative to the task's work directory (see
// [CleanCwd]); Env adds variables to the worker's allow-listed environment,
// except those the sandbox refuses (see [ShellArgs.Validate]). An Env value
// may be a reference to a tenant secret ({"secret": "NAME"}), which the
// worker resolves at run time ([SecretEnv.Resolve]).
type ShellArgs struct {
	Command []string  `json:"command"`
	Cwd     string    `json:"cwd,omitempty"`
	Env     SecretEnv `json:"env,omitempty"`
}

// SecretRefs implements [SecretReferrer]: the secrets Env refers to.
func (a *ShellArgs) SecretRefs() []string { return a.Env.Refs() }

// ParseArgs decodes and validates the args of adapter a. Unknown fields and
// wrong types are rejected with the field named; the result is *MockArgs,
// *ShellArgs, *DockerArgs or *FlyArgs. An unknown adapter is rejected.
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
		if err := decodeStrict(raw, &args, "steps", "interval_ms", "output_lines_per_step", "fail_at_step", "fail_attempts"); err != nil {
			return nil, err
		}
		return &args, args.Validate()
	case AdapterShell:
		var args ShellArgs
		if err := decodeStrict(raw, &args, "command", "cwd", "env"); err != nil {
			return nil, err
		}
		return &args, args.Validate()
	case AdapterDocker:
		return parseDockerArgs(raw)
	case AdapterFly:
		return parseFlyArgs(raw)
	default:
		return nil, &ValidationError{Field: "adapter", Reason: fmt.Sprintf("%q is unknown; use one of \"mock\", \"shell\", \"docker\", \"fly\"", a)}
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
		var valErr *ValidationError
		switch {
		case errors.As(err, &valErr): // from a field's own UnmarshalJSON
			return valErr
		case errors.As(err, &typeErr) && typeErr.Type == reflect.TypeFor[SecretString]():
			return &ValidationError{Field: "args." + typeErr.Field, Reason: secretStringReason(err)}
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

// decodeNested decodes the JSON object raw, whose member names must be
// among fields, into v, naming field and its members in errors.
func decodeNested(field string, raw json.RawMessage, v any, fields ...string) error {
	err := decodeStrict(raw, v, fields...)
	var ve *ValidationError
	if errors.As(err, &ve) {
		return &ValidationError{Field: field + strings.TrimPrefix(ve.Field, "args"), Reason: ve.Reason}
	}
	return err
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
	case a.FailAttempts < 0 || a.FailAttempts > MaxRetryAttempts:
		return &ValidationError{Field: "args.fail_attempts", Reason: fmt.Sprintf("must be between 0 (every attempt alike) and %d", MaxRetryAttempts)}
	}
	return nil
}

// Validate checks the arguments against the shell adapter's limits and
// the sandbox's policy: Cwd must stay inside the task's work directory
// ([CleanCwd]); Env may not hold a variable that makes the loader or a shell
// run code the command does not name ([refusedEnv], [refusedEnvPrefixes]),
// and a PATH in it may list only absolute directories where tasks cannot
// write ([checkPATH]).
func (a *ShellArgs) Validate() error {
	if len(a.Command) == 0 || a.Command[0] == "" {
		return &ValidationError{Field: "args.command", Reason: `must be a non-empty argv array, like ["make", "test"] (use ["sh", "-c", "…"] for a shell)`}
	}
	if err := validateArgv(a.Command); err != nil {
		return err
	}
	if _, err := CleanCwd(a.Cwd); err != nil {
		return err
	}
	if err := a.Env.validate(); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) { // sorted: the same input names the same error
		ref, v := a.Env[k].Ref, a.Env[k].Literal
		if ref != "" && k == "PATH" {
			return &ValidationError{Field: "args.env.PATH", Reason: "must be a string, not a secret reference: the sandbox checks the directories it lists"}
		}
		if why, refused := refusedEnvVar(k); refused {
			return &ValidationError{Field: "args.env." + k, Reason: fmt.Sprintf(
				"is refused by the sandbox policy, which runs no code the command does not name: %s; if the command needs it, set it inside the command, where it is seen, like [\"sh\", \"-c\", \"%s=… exec prog\"]", why, k)}
		}
		if k == "PATH" {
			if err := checkPATH(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateArgv checks args.command, an argv array (empty or not, as the
// adapter allows): a program named first, at most MaxArgvItems items of
// valid UTF-8 without NUL, each at most MaxArgBytes.
func validateArgv(argv []string) error {
	if len(argv) > 0 && argv[0] == "" {
		return &ValidationError{Field: "args.command[0]", Reason: `must name the program, like ["make", "test"] (leave command out to run the image's own)`}
	}
	if len(argv) > MaxArgvItems {
		return &ValidationError{Field: "args.command", Reason: fmt.Sprintf("has %d items; the limit is %d", len(argv), MaxArgvItems)}
	}
	for i, arg := range argv {
		if len(arg) > MaxArgBytes || !utf8.ValidString(arg) || strings.ContainsRune(arg, 0) {
			return &ValidationError{Field: fmt.Sprintf("args.command[%d]", i), Reason: fmt.Sprintf("must be valid UTF-8 without NUL, at most %d bytes", MaxArgBytes)}
		}
	}
	return nil
}

// CleanCwd returns cwd, the args.cwd of a shell task, as a clean path
// relative to the task's work directory: "." for "" (the work directory
// itself), else a path like "src/app" with no ".", ".." or empty
// component. The executor joins it to the work directory ([ShellWorkDir]
// inside the sandbox). A cwd that is absolute or leaves the work directory
// with ".." is a *ValidationError naming args.cwd. Symbolic links are the
// sandbox's business: a path is checked as written.
func CleanCwd(cwd string) (string, error) {
	if strings.ContainsRune(cwd, 0) || len(cwd) > MaxArgBytes {
		return "", &ValidationError{Field: "args.cwd", Reason: fmt.Sprintf("must be a directory path without NUL, at most %d bytes", MaxArgBytes)}
	}
	clean := path.Clean(cwd) // "" becomes "."
	if path.IsAbs(cwd) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", &ValidationError{Field: "args.cwd", Reason: `is relative to the task's work directory (e.g. "src/app"); it cannot be absolute or leave it with ..`}
	}
	return clean, nil
}

// refusedEnv are the variables args.env may not set, with what each makes
// run. The rule: refuse a variable that makes the dynamic loader or a shell
// run code that the task's command does not name. args.env reaches every
// program the task starts (and may reach the sandbox's own helpers before
// they confine anything), and the task's record, task.created, should say
// what runs: the command is where code is named.
//
// The loader's come from glibc's list of variables it ignores in secure
// mode (sysdeps/generic/unsecvars.h), with every LD_* name (see
// [refusedEnvPrefixes]); the rest of that list (LOCALDOMAIN, RES_OPTIONS,
// HOSTALIASES, RESOLV_HOST_CONF, NIS_PATH, MALLOC_TRACE, TZDIR, TMPDIR)
// chooses data or files to write, not code, and stays allowed. The shells'
// follow sudo's list of variables it always removes (initial_badenv_table
// in plugins/sudoers/env.c), for bash, sh, ksh and zsh.
//
// Interpreters' variables (PYTHONPATH, PERL5LIB, PERL5OPT, NODE_OPTIONS,
// RUBYOPT, JAVA_TOOL_OPTIONS …) are allowed: they act only in the
// interpreter a command runs by name, which the command's author chose, and
// tasks use them every day (PYTHONPATH=src pytest).
var refusedEnv = map[string]string{
	// The loader and libc.
	"GCONV_PATH":     "glibc loads character-set converters, shared libraries, from the directories it lists",
	"GETCONF_DIR":    "getconf runs the programs of the directory it names",
	"GLIBC_TUNABLES": "the loader parses it before any program starts (CVE-2023-4911 turned that into code execution)",
	"LOCPATH":        "libc reads locale data from the directories it lists instead of the system's",
	"NLSPATH":        "libc reads message catalogs, whose messages are printf formats, from the files it names",
	// Shells.
	"BASH_ENV":       "bash runs the file it names before every script",
	"ENV":            "sh, ksh and bash in POSIX mode run the file it names when they start interactively",
	"SHELLOPTS":      "every bash starts with the options it lists (xtrace, for one, runs PS4)",
	"BASHOPTS":       "every bash starts with the shopt options it lists",
	"PS4":            "bash expands it, command substitutions included, before every traced command",
	"PROMPT_COMMAND": "an interactive bash runs it before every prompt",
	"IFS":            "shells that take it from the environment split every command line with it",
	"CDPATH":         "cd in every script looks for its directory in the places it lists first",
	"GLOBIGNORE":     "it changes what every glob in every bash script matches",
	"FPATH":          "ksh and zsh load undefined functions from the directories it lists",
	"ZDOTDIR":        "every zsh runs the .zshenv of the directory it names",
	"NULLCMD":        "zsh runs it for a redirection without a command",
	"READNULLCMD":    "zsh runs it for an input redirection without a command",
}

// refusedEnvPrefixes are the families of variables args.env may not set,
// by name prefix, with what they make run (see [refusedEnv] for the rule).
var refusedEnvPrefixes = []struct{ prefix, why string }{
	{"LD_", "the dynamic loader takes its orders from LD_* variables: LD_PRELOAD and LD_AUDIT load libraries into every program, LD_LIBRARY_PATH chooses where they come from"},
	{"DYLD_", "the macOS loader takes its orders from DYLD_* variables: DYLD_INSERT_LIBRARIES loads libraries into every program"},
	{"BASH_FUNC_", "bash imports them as functions that run in place of the commands they are named after"},
}

// refusedEnvVar reports whether args.env may not set the variable name,
// and why.
func refusedEnvVar(name string) (why string, refused bool) {
	if why, ok := refusedEnv[name]; ok {
		return why, true
	}
	for _, p := range refusedEnvPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.why, true
		}
	}
	return "", false
}

// writableDirs are the directories a PATH in args.env may not reach into:
// the task's work directory, and the places any user may write on a
// standard Linux system. Commands are found in PATH by the executor and by
// every shell; an entry the task can write lets a file it wrote stand in
// for a system command.
var writableDirs = []string{ShellWorkDir, "/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock"}

// pathAdvice ends every error about a PATH in args.env.
const pathAdvice = `list only absolute directories of installed programs, like "/usr/local/bin:/usr/bin:/bin", and run a program of the work directory by its path, like ["./bin/tool"]`

// checkPATH reports why v cannot be the PATH of a task: an entry that is
// empty (the current directory), relative, has a "." or ".." component, or
// lies in one of [writableDirs].
func checkPATH(v string) error {
	for _, dir := range strings.Split(v, ":") {
		var reason string
		switch {
		case dir == "":
			reason = `has an empty entry (a leading, trailing or doubled ":"), which means the current directory`
		case !path.IsAbs(dir):
			reason = fmt.Sprintf("has the relative entry %q, which depends on the current directory", dir)
		case slices.ContainsFunc(strings.Split(dir, "/"), func(c string) bool { return c == "." || c == ".." }):
			reason = fmt.Sprintf(`has the entry %q with a "." or ".." component; write the directory out`, dir)
		default:
			clean := path.Clean(dir)
			for _, w := range writableDirs {
				if clean == w || strings.HasPrefix(clean, w+"/") {
					reason = fmt.Sprintf("has the entry %q, in %s, where tasks can write", dir, w)
					break
				}
			}
		}
		if reason != "" {
			return &ValidationError{Field: "args.env.PATH", Reason: reason + "; " + pathAdvice}
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
