package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
)

// noopLines returns n lines of a batch file of no-op mock tasks.
func noopLines(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"name":"t%d","adapter":"mock","args":{"steps":1,"interval_ms":0,"output_lines_per_step":0}}`, i)
	}
	return lines
}

// waitSucceeded waits for every task of ids to end and fails unless each
// one succeeded at its first attempt.
func waitSucceeded(t *testing.T, c *client.Client, ids []uuid.UUID) {
	t.Helper()
	ctx := t.Context()
	for i, id := range ids {
		testwait.For(t, fmt.Sprintf("task %d to end", i), func() bool {
			st, err := c.TaskStatus(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return st.State.Terminal()
		})
		if st, err := c.TaskStatus(ctx, id); err != nil || st.State != domain.StateSucceeded || st.Attempt != 1 {
			t.Fatalf("task %d ended %s after %d attempts (%v)", i, st.State, st.Attempt, err)
		}
	}
}

// task start-batch on dev: a file of 1,500 tasks goes in two requests of
// at most 1,000, and every task runs; a bad line is named, and its request
// starts nothing.
func TestTaskStartBatchOnDev(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	cli := newClientCLI(t, dev.base, dev.key)
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.jsonl")
	lines := noopLines(1500)
	lines[700] = "" // blank lines are skipped
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := cli.mustRun("", "task", "start-batch", "-idempotency-key", "backlog", file)
	out := strings.Fields(res.stdout)
	if len(out) != 1499 || !strings.Contains(res.stderr, "started 1499 tasks in 2 requests") {
		t.Fatalf("start-batch printed %d ids:\n%s", len(out), res.stderr)
	}
	ids := make([]uuid.UUID, len(out))
	for i, s := range out {
		ids[i] = uuid.MustParse(s)
	}
	c, err := client.New(dev.base, client.WithToken(dev.key))
	if err != nil {
		t.Fatal(err)
	}
	waitSucceeded(t, c, ids)
	// The same file and key again starts nothing new.
	if again := cli.mustRun("", "task", "start-batch", "-idempotency-key", "backlog", file); again.stdout != res.stdout {
		t.Fatal("start-batch again printed other tasks")
	}

	bad := noopLines(5)
	bad[3] = `{"name":"t3","adapter":"mock","args":{"steps":-1}}`
	if err := os.WriteFile(file, []byte(strings.Join(bad, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := cli.run("", "task", "start-batch", file)
	if failed.code != exitUsage || failed.stdout != "" || !strings.Contains(failed.stderr, "the task on line 4") || !strings.Contains(failed.stderr, "tasks[3].args.steps") {
		t.Fatalf("a bad task: exit %d\n%s%s", failed.code, failed.stdout, failed.stderr)
	}
	if err := os.WriteFile(file, []byte("{\"name\":\"x\",\"adapter\":\"mock\",\"colour\":1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if failed := cli.run("", "task", "start-batch", file); failed.code != exitUsage || !strings.Contains(failed.stderr, "line 1") {
		t.Fatalf("an unknown field: exit %d\n%s", failed.code, failed.stderr)
	}
	// stdin, as -.
	fromStdin := cli.mustRun(strings.Join(noopLines(3), "\n"), "task", "start-batch", "-json", "-")
	var started []map[string]any
	if err := json.Unmarshal([]byte(fromStdin.stdout), &started); err != nil || len(started) != 3 || started[0]["resume_token"] != nil {
		t.Fatalf("start-batch -json: %v\n%s", err, fromStdin.stdout)
	}
}

// POST /v1/tasks/batch in production: 1,000 tasks through one serve
// process on Postgres, run by two worker processes over Redis.
func TestStartBatchInProduction(t *testing.T) {
	t.Parallel()
	env := prodEnv(t, testpg.NewDatabase(t, testpg.Fast), testredis.URL(t), "PLAN_TRIAL_TASKS_PER_DAY=5000", "PLAN_TRIAL_CONCURRENCY=16")
	api := startProc(t, env, "serve", "-port", "0")
	for _, id := range []string{"w1", "w2"} {
		startWorker(t, env, id, 10*time.Second)
	}
	c, err := client.New(api.base, client.WithToken(register(t, api.base, "batch@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]client.StartTaskRequest, client.MaxBatchTasks)
	for i := range reqs {
		reqs[i] = client.StartTaskRequest{Name: fmt.Sprintf("t%d", i), Adapter: domain.AdapterMock,
			Args: json.RawMessage(`{"steps":1,"interval_ms":0,"output_lines_per_step":0}`), IdempotencyKey: fmt.Sprintf("item-%d", i)}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	started, err := c.StartTasks(ctx, client.StartTasksRequest{Tasks: reqs})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, len(started))
	for i, st := range started {
		ids[i] = st.TaskID
	}
	waitSucceeded(t, c, ids)
}
