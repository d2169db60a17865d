package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// maxTaskName is the API's bound on a task's name, in bytes.
const maxTaskName = 200

// envFlag collects -env K=V flags.
type envFlag map[string]string

func (e envFlag) String() string { return "" }

func (e envFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not K=V", v)
	}
	e[k] = val
	return nil
}

func runTaskStart(ctx context.Context, cl *commandLine) error {
	fs := cl.fs
	name := fs.String("name", "", "the task's name, 1–200 bytes (default: the command line, or the adapter's name)")
	adapter := fs.String("adapter", string(domain.AdapterShell), "shell (runs the argv after --, without a shell), docker (runs -image, the argv after -- as its command), mock, or fly (a Fly.io machine or deploy; give -args)")
	image := fs.String("image", "", "docker: the image to run, like alpine:3.20 (the argv after --, if any, replaces its command; -cwd is its absolute workdir)")
	rawArgs := fs.String("args", "", "the adapter's arguments as a JSON object, instead of the argv (mock: '{\"steps\":5,\"interval_ms\":100,\"output_lines_per_step\":1,\"fail_at_step\":0}')")
	cwd := fs.String("cwd", "", "shell: the command's directory, relative to the task's fresh work directory, like src/app (default: the work directory); docker: the absolute workdir")
	env := envFlag{}
	fs.Var(env, "env", "shell, docker: an environment variable `K=V` for the command (repeatable)")
	timeout := fs.Duration("timeout", 0, "bound on the run, like 10m (default: the smaller of 1h and your plan's longest)")
	idempotencyKey := fs.String("idempotency-key", "", "a retry with the same key returns the first task instead of starting another")
	retry := retryFlags(fs)
	onInterrupt := fs.String("on-interrupt", "", "what becomes of the task when its worker dies: retry (run it again from the start, the default) or fail (never run it twice)")
	var follow bool
	fs.BoolVar(&follow, "f", false, "follow the task's output to its end, as task logs -f")
	fs.BoolVar(&follow, "follow", false, "same as -f")
	exitCode := fs.Bool("exit-code", false, "with -f: exit with the task's exit code (124 timed out, 130 canceled)")
	if err := cl.parseFlags(cl.args); err != nil {
		return err
	}
	argv := fs.Args()
	req := client.StartTaskRequest{Name: *name, Adapter: domain.Adapter(*adapter), Timeout: *timeout, IdempotencyKey: *idempotencyKey,
		OnInterrupt: domain.OnInterrupt(*onInterrupt)}
	var err error
	if req.Retry, err = retry.policy(); err != nil {
		return err
	}
	switch {
	case *timeout < 0:
		return usageError("-timeout must be positive, like 10m")
	case *exitCode && !follow:
		return usageError("-exit-code needs -f: the task's exit code is known at its end")
	case *image != "" && req.Adapter != domain.AdapterDocker:
		return usageError("-image is for -adapter docker")
	case *rawArgs != "" && (len(argv) > 0 || *cwd != "" || len(env) > 0 || *image != ""):
		return usageError("give the adapter's arguments either as -args JSON or as the argv after -- (with -cwd, -env and -image), not both")
	case *rawArgs != "":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(*rawArgs), &obj); err != nil || obj == nil {
			return usageError(`-args must be a JSON object, like '{"steps":5}'`)
		}
		req.Args = json.RawMessage(*rawArgs)
	case req.Adapter == domain.AdapterShell:
		if len(argv) == 0 {
			return usageError("give the command to run after --, like: axontask task start -- make test")
		}
		shellArgs := map[string]any{"command": argv}
		if *cwd != "" {
			shellArgs["cwd"] = *cwd
		}
		if len(env) > 0 {
			shellArgs["env"] = env
		}
		req.Args = shellArgs
	case req.Adapter == domain.AdapterDocker:
		if *image == "" {
			return usageError("give the image to run with -image, like: axontask task start -adapter docker -image alpine:3.20 -- echo hello")
		}
		dockerArgs := map[string]any{"image": *image}
		if len(argv) > 0 {
			dockerArgs["command"] = argv
		}
		if *cwd != "" {
			dockerArgs["workdir"] = *cwd
		}
		if len(env) > 0 {
			dockerArgs["env"] = env
		}
		req.Args = dockerArgs
	case len(argv) > 0 || *cwd != "" || len(env) > 0:
		return usageError(fmt.Sprintf("the %s adapter takes no command, -cwd or -env; give its arguments as -args JSON", req.Adapter))
	}
	if req.Name == "" {
		req.Name = defaultTaskName(req.Adapter, argv)
	}
	r, err := cl.cf.connect(ctx, cl.con)
	if err != nil {
		return err
	}
	started, err := callAPI(ctx, r, "task start", func(c *client.Client) (api.StartedTask, error) {
		return c.StartTask(ctx, req)
	})
	if err != nil {
		return err
	}
	if follow {
		if !cl.cf.json {
			fmt.Fprintf(cl.con.stderr, "axontask: started task %s\n", started.TaskID)
		}
		return followLogs(ctx, r, cl.con, started.TaskID, 0, cl.cf.json, *exitCode)
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, startedJSON{StartedTask: started})
	}
	fmt.Fprintln(cl.con.stdout, started.TaskID)
	fmt.Fprintf(cl.con.stderr, "axontask: started task %q; follow it with: axontask task logs %s -f\n", req.Name, started.TaskID)
	return nil
}

// defaultTaskName names a task after its command line (cut to the API's
// bound, control characters made spaces), or after its adapter.
func defaultTaskName(adapter domain.Adapter, argv []string) string {
	if len(argv) == 0 {
		return string(adapter)
	}
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.Join(argv, " "))
	if len(name) > maxTaskName {
		cut := maxTaskName - len("…")
		for !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + "…"
	}
	if strings.TrimSpace(name) == "" {
		return string(adapter)
	}
	return name
}

// startedJSON is task start's JSON output: the API's answer without its
// resume token, a credential. The empty ResumeToken, shallower than the
// embedded one, hides it from encoding/json.
type startedJSON struct {
	api.StartedTask
	ResumeToken *struct{} `json:"resume_token,omitempty"`
}

// taskStatusJSON is task status's JSON output: the API's status with,
// after its state, whether the task has ended.
type taskStatusJSON struct {
	TaskID        uuid.UUID        `json:"task_id"`
	State         domain.TaskState `json:"state"`
	Ended         bool             `json:"ended"`
	Attempt       int              `json:"attempt"`
	CreatedAt     api.Time         `json:"created_at"`
	StartedAt     api.Time         `json:"started_at"`
	EndedAt       api.Time         `json:"ended_at"`
	LastSeq       int64            `json:"last_seq"`
	WaitingReason string           `json:"waiting_reason,omitempty"`
	NextAttemptAt *api.Time        `json:"next_attempt_at,omitempty"`
}

func newTaskStatusJSON(t api.Task) taskStatusJSON {
	return taskStatusJSON{TaskID: t.TaskID, State: t.State, Ended: t.State.Terminal(), Attempt: t.Attempt,
		CreatedAt: t.CreatedAt, StartedAt: t.StartedAt, EndedAt: t.EndedAt, LastSeq: t.LastSeq, WaitingReason: t.WaitingReason,
		NextAttemptAt: t.NextAttemptAt}
}

func runTaskStatus(ctx context.Context, cl *commandLine) error {
	id, err := cl.parseTask()
	if err != nil {
		return err
	}
	st, err := connectCallAPI(ctx, cl, "task status "+id.String(), func(c *client.Client) (api.Task, error) {
		return c.TaskStatus(ctx, id)
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, newTaskStatusJSON(st))
	}
	s := style{cl.con.colour(cl.con.stdoutTerminal)}
	now := cl.con.now()
	w := cl.con.stdout
	fmt.Fprintf(w, "task      %s\n", s.bold(st.TaskID.String()))
	fmt.Fprintf(w, "state     %s (attempt %d)\n", s.state(st.State), st.Attempt)
	if st.WaitingReason != "" {
		fmt.Fprintf(w, "waiting   %s\n", st.WaitingReason)
	}
	if st.NextAttemptAt != nil {
		fmt.Fprintf(w, "retry     attempt %d is due at %s (in %s)\n", st.Attempt, st.NextAttemptAt.Local().Format("2006-01-02 15:04:05 MST"), span(st.NextAttemptAt.Sub(now)))
	}
	fmt.Fprintf(w, "created   %s\n", when(st.CreatedAt.Time, now))
	fmt.Fprintf(w, "started   %s\n", when(st.StartedAt.Time, now))
	fmt.Fprintf(w, "ended     %s\n", when(st.EndedAt.Time, now))
	fmt.Fprintf(w, "ran       %s\n", runTime(st.StartedAt.Time, st.EndedAt.Time, now))
	fmt.Fprintf(w, "last seq  %d\n", st.LastSeq)
	return nil
}

func runTaskCancel(ctx context.Context, cl *commandLine) error {
	id, err := cl.parseTask()
	if err != nil {
		return err
	}
	_, err = connectCallAPI(ctx, cl, "task cancel "+id.String(), func(c *client.Client) (struct{}, error) {
		return struct{}{}, c.CancelTask(ctx, id, "")
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, struct {
			TaskID uuid.UUID `json:"task_id"`
			api.Canceled
		}{id, api.Canceled{Canceled: true}})
	}
	fmt.Fprintf(cl.con.stdout, "cancel requested: task %s stops and ends as canceled\n", id)
	return nil
}

// listPage is the page size of task list.
const listPage = 100

// rfc3339Flag sets *to from a flag's RFC 3339 value, read as the API
// reads its parameter field.
func rfc3339Flag(field string, to *time.Time) func(string) error {
	return func(v string) error {
		t, err := api.ParseTimeParam(field, v)
		*to = t
		return err
	}
}

func runTaskList(ctx context.Context, cl *commandLine) error {
	state := cl.fs.String("state", "", "only tasks in this state: created, queued, running, succeeded, failed, canceled or timed_out")
	limit := cl.fs.Int("limit", 20, "at most this many tasks (0: all)")
	var opts client.ListTasksOptions
	cl.fs.Func("created-after", "only tasks created after this `time` (RFC 3339, such as 2026-12-01T09:30:00Z)", rfc3339Flag("created_after", &opts.CreatedAfter))
	cl.fs.Func("created-before", "only tasks created before this `time` (RFC 3339)", rfc3339Flag("created_before", &opts.CreatedBefore))
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	if *limit < 0 {
		return usageError("-limit must not be negative (0 lists all)")
	}
	tasks, err := connectCallAPI(ctx, cl, "task list", func(c *client.Client) ([]api.Task, error) {
		tasks := []api.Task{}
		pageSize := listPage
		if *limit > 0 {
			pageSize = min(*limit, listPage)
		}
		opts.State, opts.Limit = domain.TaskState(*state), pageSize
		for t, err := range c.AllTasks(ctx, opts) {
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, t)
			if len(tasks) == *limit {
				break
			}
		}
		return tasks, nil
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		// The API's tasks, without a cursor: the list is whole.
		return writeJSON(cl.con.stdout, struct {
			Tasks []api.Task `json:"tasks"`
		}{tasks})
	}
	if len(tasks) == 0 {
		what := "tasks"
		if *state != "" {
			what = *state + " tasks"
		}
		if !opts.CreatedAfter.IsZero() || !opts.CreatedBefore.IsZero() {
			what += " created in that time"
		}
		fmt.Fprintf(cl.con.stdout, "no %s; start one with: axontask task start -- COMMAND\n", what)
		return nil
	}
	s := style{cl.con.colour(cl.con.stdoutTerminal)}
	now := cl.con.now()
	tab := table{header: []string{"TASK ID", "NAME", "ADAPTER", "STATE", "CREATED", "RAN"}}
	for _, t := range tasks {
		tab.rows = append(tab.rows, []cell{
			{text: t.TaskID.String()}, {text: truncate(t.Name, 40)}, {text: string(t.Adapter)},
			{text: string(t.State), painted: s.state(t.State)}, {text: ago(t.CreatedAt.Time, now)},
			{text: runTime(t.StartedAt.Time, t.EndedAt.Time, now)},
		})
	}
	tab.write(cl.con.stdout, s)
	return nil
}

// cell is a table cell: its text, and the text painted (empty: as is).
type cell struct{ text, painted string }

// table prints aligned columns, two spaces apart, the header dimmed.
type table struct {
	header []string
	rows   [][]cell
}

func (t table) write(w io.Writer, s style) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range t.rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	line := func(cells []cell) {
		var b strings.Builder
		for i, c := range cells {
			painted := c.painted
			if painted == "" {
				painted = c.text
			}
			if i == len(cells)-1 {
				b.WriteString(painted)
				break
			}
			b.WriteString(padded(painted, c.text, widths[i]+2))
		}
		fmt.Fprintln(w, b.String())
	}
	head := make([]cell, len(t.header))
	for i, h := range t.header {
		head[i] = cell{text: h, painted: s.dim(h)}
	}
	line(head)
	for _, row := range t.rows {
		line(row)
	}
}
