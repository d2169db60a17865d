package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
)

// maxBatchLine bounds a line of task start-batch's file: a task's args are
// at most 64 KiB, its other fields far less.
const maxBatchLine = 128 << 10

// runTaskStartBatch starts the tasks of a JSON Lines file, up to
// client.MaxBatchTasks per request, each request all or nothing.
func runTaskStartBatch(ctx context.Context, cl *commandLine) error {
	idempotencyKey := cl.fs.String("idempotency-key", "", "the batches' key: request i (from 1) is sent with Idempotency-Key KEY-i, so that running the same command on the same file again starts nothing new")
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	tasks, lines, err := readBatchFile(pos[0], cl.con.stdin)
	if err != nil {
		return err
	}
	r, err := cl.cf.connect(ctx, cl.con)
	if err != nil {
		return err
	}
	batches := (len(tasks) + client.MaxBatchTasks - 1) / client.MaxBatchTasks
	var started []startedJSON
	for b := range batches {
		from, to := b*client.MaxBatchTasks, min((b+1)*client.MaxBatchTasks, len(tasks))
		req := client.StartTasksRequest{Tasks: tasks[from:to]}
		if *idempotencyKey != "" {
			req.IdempotencyKey = *idempotencyKey + "-" + strconv.Itoa(b+1)
		}
		var out []api.StartedTask
		err := r.do(ctx, func(c *client.Client) error {
			var err error
			out, err = c.StartTasks(ctx, req)
			return err
		})
		if err != nil {
			if b > 0 {
				fmt.Fprintf(cl.con.stderr, "axontask: the %d tasks of the requests before started (their ids are above); none of request %d or after\n", from, b+1)
			}
			op := fmt.Sprintf("task start-batch: lines %d–%d (request %d of %d)", lines[from], lines[to-1], b+1, batches)
			if line := failedLine(err, lines[from:to]); line > 0 {
				op += fmt.Sprintf(", the task on line %d", line)
			}
			return r.fail(ctx, op, err)
		}
		for _, t := range out {
			if cl.cf.json {
				started = append(started, startedJSON{StartedTask: t})
			} else {
				fmt.Fprintln(cl.con.stdout, t.TaskID)
			}
		}
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, started)
	}
	fmt.Fprintf(cl.con.stderr, "axontask: started %d tasks in %d requests\n", len(tasks), batches)
	return nil
}

// readBatchFile reads path ("-": stdin) as JSON Lines, one task a line as
// POST /v1/tasks/batch takes it; blank lines are skipped. It returns the
// tasks and the line number of each.
func readBatchFile(path string, stdin io.Reader) ([]client.StartTaskRequest, []int, error) {
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, usageError(fmt.Sprintf("task start-batch: %v", err))
		}
		defer func() { _ = f.Close() }()
		in = f
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxBatchLine)
	var tasks []client.StartTaskRequest
	var lines []int
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		t, err := parseBatchLine(line)
		if err != nil {
			return nil, nil, usageError(fmt.Sprintf("task start-batch: %s line %d: %v", path, n, err))
		}
		tasks, lines = append(tasks, t), append(lines, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than %d bytes", maxBatchLine)
		}
		return nil, nil, usageError(fmt.Sprintf("task start-batch: read %s: %v", path, err))
	}
	if len(tasks) == 0 {
		return nil, nil, usageError(fmt.Sprintf(`task start-batch: %s holds no tasks; write one JSON object a line, like {"name":"one","adapter":"mock","args":{"steps":1}}`, path))
	}
	return tasks, lines, nil
}

// parseBatchLine parses one line of a batch file: a task as POST
// /v1/tasks/batch takes it, no unknown fields.
func parseBatchLine(line []byte) (client.StartTaskRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var t api.BatchTask
	if err := dec.Decode(&t); err != nil {
		return client.StartTaskRequest{}, fmt.Errorf("not a task: %w", err)
	}
	if dec.More() {
		return client.StartTaskRequest{}, errors.New("holds more than one JSON value; write one task a line")
	}
	req := client.StartTaskRequest{Name: t.Name, Adapter: t.Adapter, Timeout: time.Duration(t.TimeoutS) * time.Second,
		Retry: t.Retry, OnInterrupt: t.OnInterrupt, IdempotencyKey: t.IdempotencyKey}
	if len(t.Args) > 0 {
		req.Args = t.Args
	}
	return req, nil
}

// batchTaskField matches the field of a batch's problem that names a task.
var batchTaskField = regexp.MustCompile(`^tasks\[(\d+)\]`)

// failedLine returns the line of the task that err, the failure of a
// request of the tasks at lines, names; 0 when it names none.
func failedLine(err error, lines []int) int {
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		return 0
	}
	m := batchTaskField.FindStringSubmatch(apiErr.Field)
	if m == nil {
		return 0
	}
	i, convErr := strconv.Atoi(m[1])
	if convErr != nil || i >= len(lines) {
		return 0
	}
	return lines[i]
}
