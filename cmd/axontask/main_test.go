package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/integrity"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	var ee *exitError
	switch {
	case err == nil || errors.Is(err, errHelpShown):
		code = exitOK
	case errors.As(err, &ee):
		code = ee.code
		errb.WriteString(err.Error())
	default:
		code = exitInternal
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

// seed writes two task streams into a fresh SQLite store and returns its path.
func seed(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(context.Background(), path, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var first string
	for i := range 2 {
		stream := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "tenant-a"}
		if i == 0 {
			first = stream.ID
		}
		var events []domain.NewEvent
		for j := range 5 {
			p, _ := domain.MarshalPayload(domain.TaskOutput{Data: fmt.Sprintf("line %d\n", j), Offset: int64(j * 7), Stream: domain.Stdout})
			events = append(events, domain.NewEvent{EventID: uuid.New(), Type: domain.TaskOutputType, Payload: p, OccurredAt: time.Now()})
		}
		if _, err := s.Append(context.Background(), stream, 0, events); err != nil {
			t.Fatal(err)
		}
	}
	return path, first
}

// streamLines starts a shell task printing n numbered lines on the server
// at base, follows its stream to the end and checks that every line arrived
// once, in order, in events with seqs 1..N whose chain verifies.
func streamLines(t *testing.T, base string, n int) {
	t.Helper()
	out, last := runShellTask(t, base, "seq", "1", strconv.Itoa(n))
	var want strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	if out != want.String() || last.Type != domain.TaskSucceededType {
		t.Fatalf("%d bytes of output (want %d), last event %s", len(out), want.Len(), last.Type)
	}
}

// runShellTask starts a shell task of argv on the dev server at base,
// follows its stream to the end, checks the chain, and returns its
// stdout and stderr, and its last event.
func runShellTask(t *testing.T, base string, argv ...string) (string, domain.Event) {
	t.Helper()
	return runTask(t, base, domain.AdapterShell, map[string]any{"command": argv})
}

// runTask runs a task of adapter with args on the server at base to its
// end, and returns its output, both streams together, and its last event.
func runTask(t *testing.T, base string, adapter domain.Adapter, args any) (string, domain.Event) {
	t.Helper()
	raw, _ := json.Marshal(args)
	id := startTask(t, base, fmt.Sprintf(`{"name":"t","adapter":%q,"args":%s,"timeout_s":120}`, adapter, raw))
	seen := make(chan domain.Event, 100000)
	if err := sseFrom(t.Context(), base, id, 0, seen); err != nil {
		t.Fatal(err)
	}
	close(seen)
	var events []domain.Event
	var out strings.Builder
	for e := range seen {
		events = append(events, e)
		if e.Type == domain.TaskOutputType {
			p, err := domain.Decode(e.Type, e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString(p.(*domain.TaskOutput).Data)
		}
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	if err := integrity.Verify(events); err != nil {
		t.Fatal(err)
	}
	return out.String(), events[len(events)-1]
}

// A task of dev's own tenant cannot reach dev's data directory, keys,
// environment or port.
func TestDevTaskCannotReachTheServer(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	authorize(t, dev.base, dev.key)
	u, err := url.Parse(dev.base)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dev.dataDir, "token.key")
	secret, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("cat %[1]s; ls %[2]s; cat /proc/%[3]d/environ; echo x > /dev/tcp/127.0.0.1/%[4]s; echo end",
		key, dev.dataDir, dev.cmd.Process.Pid, u.Port())
	out, last := runShellTask(t, dev.base, "bash", "-c", script)
	for _, want := range []string{
		key + ": No such file or directory",
		dev.dataDir + "': No such file or directory",
		fmt.Sprintf("/proc/%d/environ: No such file or directory", dev.cmd.Process.Pid),
		"Connection refused",
		"end",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, strings.TrimSpace(string(secret))) || last.Type != domain.TaskSucceededType {
		t.Errorf("the task read the key, or ended %s:\n%s", last.Type, out)
	}
}

// streamTask starts a mock task on the dev server at base and follows its
// stream to the terminal event.
func streamTask(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/mcp/start_task",
		strings.NewReader(`{"name":"demo","adapter":"mock","args":{"steps":3,"interval_ms":10},"timeout_s":60}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		TaskID    string `json:"task_id"`
		StreamURL string `json:"stream_url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&started)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || started.StreamURL == "" {
		t.Fatalf("start_task: %d, %+v, %v", resp.StatusCode, started, err)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, base+started.StreamURL, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var types []string
	for sc.Scan() {
		if typ, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			types = append(types, typ)
		}
	}
	if len(types) < 4 || types[0] != "task.created" || types[len(types)-1] != "task.succeeded" {
		t.Fatalf("stream of task %s: %v", started.TaskID, types)
	}
	// The task list (a projection, a moment behind the log) shows it too.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct {
			Tasks []struct {
				TaskID string `json:"task_id"`
				State  string `json:"state"`
			} `json:"tasks"`
		}
		getJSON(t, base+"/v1/tasks", &list)
		if len(list.Tasks) == 1 && list.Tasks[0].TaskID == started.TaskID && list.Tasks[0].State == "succeeded" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/tasks = %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExportThenVerify(t *testing.T) {
	t.Parallel()
	path, stream := seed(t)

	feed, errOut, code := runCLI(t, "", "export", "-sqlite", path)
	if code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if n := strings.Count(feed, "\n"); n != 10 {
		t.Fatalf("export wrote %d lines, want 10", n)
	}
	out, errOut, code := runCLI(t, feed, "verify")
	if code != exitOK || !strings.Contains(out, "verified 10 events in 2 streams") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}

	bin, errOut, code := runCLI(t, "", "export", "-sqlite", path, "-format", "binary")
	if code != exitOK || !strings.HasPrefix(bin, integrity.BinaryExportMagic) || len(bin) >= len(feed) {
		t.Fatalf("export -format binary: exit %d, %d bytes: %s", code, len(bin), errOut)
	}
	if out, errOut, code := runCLI(t, bin, "verify"); code != exitOK || !strings.Contains(out, "verified 10 events in 2 streams") {
		t.Fatalf("verify a binary export: exit %d\n%s%s", code, out, errOut)
	}

	one, _, code := runCLI(t, "", "export", "-sqlite", path, "-stream", stream)
	if code != exitOK || strings.Count(one, "\n") != 5 {
		t.Fatalf("stream export: exit %d, %d lines", code, strings.Count(one, "\n"))
	}

	if out, errOut, code := runCLI(t, "", "projections", "rebuild", "-sqlite", path); code != exitOK || !strings.Contains(out, "rebuilt") {
		t.Fatalf("projections rebuild: exit %d\n%s%s", code, out, errOut)
	}

	tampered := strings.Replace(feed, `line 3\n`, `line 4\n`, 1)
	_, errOut, code = runCLI(t, tampered, "verify")
	if code != exitFailed || !strings.Contains(errOut, "payload_digest") {
		t.Fatalf("tampered export: exit %d, %s", code, errOut)
	}
	out, _, code = runCLI(t, tampered, "verify", "-json")
	if code != exitFailed || !strings.Contains(out, `"kind": "wrong_digest"`) {
		t.Fatalf("tampered export, -json: exit %d\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"export", "-sqlite", "x.db", "-from", "-1"}, "-from must not be negative"},
		{[]string{"export", "-sqlite", "x.db", "-format", "xml"}, `-format "xml": use jsonl or binary`},
		{[]string{"verify", "a", "b"}, "at most 1 argument"},
		{[]string{"migrate", "-nope"}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		_, errOut, code := runCLI(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
	if _, errOut, code := runCLI(t, "", "verify", filepath.Join(t.TempDir(), "missing.jsonl")); code != exitInternal {
		t.Errorf("verify of a missing file: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "", "verify"); code != exitFailed || !strings.Contains(errOut, "no events") {
		t.Errorf("verify of empty input: exit %d, %s", code, errOut)
	}
}

// The README's first command, as a real process: it starts, answers its
// health endpoints, runs a task started over HTTP while a client streams
// it to the end, counts the start in /metrics, and stops cleanly on SIGTERM.
func TestDevProcess(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	cmd, dataDir, base := dev.cmd, dev.dataDir, dev.base
	authorize(t, base, dev.key)
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "events.db")); err != nil {
		t.Fatalf("no store file: %v", err)
	}
	streamTask(t, base)
	if n := commandCount(t, base, "StartTask", "success"); n < 1 {
		t.Fatalf("/metrics counts %v successful StartTask after a start over HTTP", n)
	}
	streamLines(t, base, 10000)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("dev did not stop within 20 s of SIGTERM")
	}
}

// devProc is a running `axontask dev`.
type devProc struct {
	cmd       *exec.Cmd
	dataDir   string
	base, key string // the URL and the API key it printed
}

// startDev starts `axontask dev` on a free port in a fresh data dir, with
// flags added, logging at debug level to logs (nil: processLogs, searched
// for secrets), and waits for its banner. It is killed when the test ends.
func startDev(t *testing.T, logs io.Writer, flags ...string) *devProc {
	t.Helper()
	if logs == nil {
		logs = processLogs(t)
	}
	return launchDev(t, t.TempDir(), logs, []string{"LOG_LEVEL=debug"}, flags...)
}

// launchDev starts `axontask dev` on a free port in dataDir, with the
// environment variables env (NAME=value) and flags added, its log to logs,
// and waits for its banner. It is killed when the test ends.
func launchDev(t *testing.T, dataDir string, logs io.Writer, env []string, flags ...string) *devProc {
	t.Helper()
	dev := &devProc{dataDir: dataDir}
	dev.cmd = exec.CommandContext(t.Context(), binary(t), append([]string{"dev", "-port", "0", "-data-dir", dataDir}, flags...)...)
	dev.cmd.Env = append(os.Environ(), env...)
	dev.cmd.Stderr = logs
	stdout, err := dev.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dev.cmd.Process.Kill(); _ = dev.cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for dev.key == "" && lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if rest, ok := strings.CutPrefix(line, "listening:"); ok {
			dev.base = strings.TrimSpace(rest)
		}
		if rest, ok := strings.CutPrefix(line, "API key:"); ok {
			dev.key = strings.TrimSpace(rest)
		}
	}
	if dev.base == "" || dev.key == "" {
		t.Fatal("dev never printed its URL and API key")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return dev
}
