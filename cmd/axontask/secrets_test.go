package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/internal/secretscan"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/mcpserver"
	"github.com/axontask/axontask/secrets"
)

// A tenant secret set through the CLI and printed by the task that uses it
// appears nowhere: not in the SSE stream, the status, the MCP results, the
// CLI's output, an export, the SQLite files or the process's logs. The
// task's output shows *** where it printed it.
func TestSecretNeverLeaks(t *testing.T) {
	t.Parallel()
	const value = "ghp_Sup3rS3cretT0ken_4c9e1b7a"
	logs := &syncBuffer{}
	scan := secretscan.New(t, value)
	dev := startDev(t, io.MultiWriter(logs, scan, processLogs(t)))
	get := func(url string) string {
		var raw json.RawMessage
		call(t, "GET", url, dev.key, "", &raw)
		return string(raw)
	}
	cli := newClientCLI(t, dev.base, dev.key)
	cli.secrets = append(cli.secrets, value)

	// The value from stdin, never from argv; a line ending is dropped.
	if res := cli.mustRun(value+"\n", "secret", "set", "DEPLOY_TOKEN"); !strings.Contains(res.stdout, "created secret DEPLOY_TOKEN") {
		t.Fatalf("secret set: %q", res.stdout)
	}
	if res := cli.mustRun(value+"\n", "secret", "set", "DEPLOY_TOKEN"); !strings.Contains(res.stdout, "replaced the value of secret DEPLOY_TOKEN") {
		t.Fatalf("secret set again: %q", res.stdout)
	}
	if res := cli.run("", "secret", "set", "EMPTY"); res.code != exitUsage {
		t.Fatalf("secret set with nothing on stdin: exit %d", res.code)
	}

	// Printed whole, then in two writes with a pause between them.
	script := `echo "token=$T"; n=$((${#T}/2)); printf 'split=%s' "$(printf '%s' "$T" | head -c $n)"; sleep 0.2; printf '%s\n' "$(printf '%s' "$T" | tail -c +$((n+1)))"; echo "::progress 50 pushing with $T"`
	var started struct {
		TaskID      string `json:"task_id"`
		ResumeToken string `json:"resume_token"`
	}
	body := `{"name":"deploy","adapter":"shell","args":{"command":["sh","-c",` + quoteJSON(script) + `],"env":{"T":{"secret":"DEPLOY_TOKEN"}}}}`
	if s := call(t, "POST", dev.base+"/mcp/start_task", dev.key, body, &started); s != http.StatusCreated {
		t.Fatalf("start_task: %d", s)
	}
	sse := readSSE(t, dev.base+"/mcp/tasks/"+started.TaskID+"/stream", dev.key)
	if !strings.Contains(sse, `token=***`) || !strings.Contains(sse, `"data":"split="`) || !strings.Contains(sse, `"data":"***\n"`) || !strings.Contains(sse, "task.succeeded") || !strings.Contains(sse, "pushing with ***") {
		t.Fatalf("the stream does not show the task's output masked:\n%s", sse)
	}
	statusText := get(dev.base + "/mcp/tasks/" + started.TaskID + "/status")
	events := get(dev.base + "/v1/tasks/" + started.TaskID + "/events")
	feed := get(dev.base + "/v1/events")
	if !strings.Contains(feed, "secret.rotated") || !strings.Contains(feed, "DEPLOY_TOKEN") {
		t.Errorf("the tenant feed lacks the secret's events: %.500s", feed)
	}
	list := cli.mustRun("", "secret", "list").stdout
	if !strings.Contains(list, "DEPLOY_TOKEN") || strings.Contains(list, "never") {
		t.Errorf("secret list after the task used it: %q", list)
	}

	transport := &mcp.StreamableClientTransport{Endpoint: dev.base + mcpserver.Path, HTTPClient: &http.Client{Transport: headerTransport{"Authorization", "Bearer " + dev.key}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mcpOut strings.Builder
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_task_status", map[string]any{"task_id": started.TaskID}},
		{"read_task_events", map[string]any{"task_id": started.TaskID, "since_seq": 0}},
	} {
		res := mcpCall(t, cs, c.tool, c.args, nil)
		mcpOut.WriteString(mcpText(res))
	}
	_ = cs.Close()
	if !strings.Contains(mcpOut.String(), "***") {
		t.Errorf("the MCP results do not show the masked output: %.500s", mcpOut.String())
	}

	if res := cli.mustRun("", "secret", "list", "-json"); !strings.Contains(res.stdout, `"name": "DEPLOY_TOKEN"`) && !strings.Contains(res.stdout, `"name":"DEPLOY_TOKEN"`) {
		t.Errorf("secret list -json: %s", res.stdout)
	}
	// A task that refers to a deleted secret fails, naming it.
	cli.mustRun("", "secrets", "delete", "DEPLOY_TOKEN")
	if res := cli.run("", "secret", "delete", "DEPLOY_TOKEN"); res.code != exitNotFound {
		t.Errorf("secret delete of a deleted secret: exit %d %s", res.code, res.stderr)
	}
	var again struct {
		TaskID string `json:"task_id"`
	}
	call(t, "POST", dev.base+"/mcp/start_task", dev.key, body, &again)
	readSSE(t, dev.base+"/mcp/tasks/"+again.TaskID+"/stream", dev.key)
	if st := get(dev.base + "/v1/tasks/" + again.TaskID + "/events"); !strings.Contains(st, `"task.failed"`) || !strings.Contains(st, `secret \"DEPLOY_TOKEN\" does not exist`) {
		t.Errorf("a task referring to a deleted secret: %s", st)
	}

	if err := dev.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- dev.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dev did not stop")
	}
	export, stderr, code := runCLI(t, "", "export", "-sqlite", filepath.Join(dev.dataDir, "events.db"))
	if code != exitOK || !strings.Contains(export, "token=***") {
		t.Fatalf("export: exit %d %s", code, stderr)
	}

	for what, text := range map[string]string{"SSE": sse, "status": statusText, "events": events, "feed": feed, "MCP": mcpOut.String(), "export": export, "logs": logs.String()} {
		if strings.Contains(text, value) {
			t.Errorf("the %s holds the secret's value", what)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dev.dataDir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if strings.Contains(string(b), value) {
			t.Errorf("%s holds the secret's value", filepath.Base(f))
		}
	}
}

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// readSSE reads a task's event stream to its end.
func readSSE(t *testing.T, url, bearer string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

// `axontask secret rotate-key` re-seals every secret under SECRETS_KEY,
// opening the old seals with SECRETS_KEY_PREVIOUS; without the old key it
// fails, saying what to set.
func TestSecretRotateKeyCommand(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	oldKey, oldRaw, _ := secrets.GenerateKey()
	newKey, newRaw, _ := secrets.GenerateKey()
	s, err := sqlite.Open(t.Context(), path, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.NewVault(s, secrets.NewKeyring(oldKey), nil).Set(t.Context(), "t1", "TOKEN", []byte("rotate-me-please")); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	b64 := base64.StdEncoding.EncodeToString
	rotate := func(env ...string) (string, int) {
		cmd := exec.CommandContext(t.Context(), binary(t), "secret", "rotate-key", "-sqlite", path)
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := rotate("SECRETS_KEY=" + b64(newRaw)); code != exitFailed || !strings.Contains(out, "SECRETS_KEY_PREVIOUS") {
		t.Fatalf("rotate-key without the old key: exit %d: %s", code, out)
	}
	if out, code := rotate("SECRETS_KEY="+b64(newRaw), "SECRETS_KEY_PREVIOUS="+b64(oldRaw)); code != exitOK || !strings.Contains(out, "re-sealed 1 secrets") {
		t.Fatalf("rotate-key: exit %d: %s", code, out)
	}
	if out, code := rotate("SECRETS_KEY=" + b64(newRaw)); code != exitOK || !strings.Contains(out, "re-sealed 0 secrets") {
		t.Fatalf("rotate-key again: exit %d: %s", code, out)
	}
	if out, code := rotate(); code != exitUsage || !strings.Contains(out, "SECRETS_KEY") {
		t.Fatalf("rotate-key without keys: exit %d: %s", code, out)
	}
	s, err = sqlite.Open(t.Context(), path, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	got, err := secrets.NewVault(s, secrets.NewKeyring(newKey), nil).Resolve(t.Context(), "t1", []string{"TOKEN"})
	if err != nil || got["TOKEN"] != "rotate-me-please" {
		t.Fatalf("after rotate-key, the new key alone resolves %v, %v", got, err)
	}
}

// serve and worker on Postgres with SECRETS_KEY: a secret set through one
// API process is resolved by a worker process and masked in the task's
// log; an API process without the key answers 503 to a set.
func TestSecretsInProduction(t *testing.T) {
	t.Parallel()
	const value = "prod-Secret-Value-0a1b2c3d"
	_, raw, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	db, redisURL := testpg.NewDatabase(t, testpg.Fast), testredis.URL(t)
	env := prodEnv(t, db, redisURL, "SECRETS_KEY="+base64.StdEncoding.EncodeToString(raw))
	api := startProc(t, env, "serve", "-port", "0")
	startWorker(t, env, "w1", 5*time.Second)
	noKey := startProc(t, prodEnv(t, db, redisURL), "serve", "-port", "0")
	token := register(t, api.base, "secrets@example.com")
	body := `{"name":"PROD_TOKEN","value":"` + value + `"}`
	if s := call(t, "POST", noKey.base+"/v1/secrets", token, body, nil); s != http.StatusServiceUnavailable {
		t.Fatalf("POST /v1/secrets without SECRETS_KEY: %d, want 503", s)
	}
	if s := call(t, "POST", api.base+"/v1/secrets", token, body, nil); s != http.StatusCreated {
		t.Fatalf("POST /v1/secrets: %d", s)
	}
	authorize(t, api.base, token)
	id := startTask(t, api.base, `{"name":"uses","adapter":"shell","args":{"command":["sh","-c","echo using $T"],"env":{"T":{"secret":"PROD_TOKEN"}}}}`)
	var events []domain.Event
	testwait.For(t, "the task to end", func() bool {
		var ended bool
		events, ended = taskEvents(t, api.base, id)
		return ended
	})
	var out strings.Builder
	for _, e := range events {
		if strings.Contains(string(e.Payload), value) {
			t.Errorf("event %d (%s) holds the value", e.Seq, e.Type)
		}
		if e.Type == domain.TaskOutputType {
			p, _ := domain.Decode(e.Type, e.Payload)
			out.WriteString(p.(*domain.TaskOutput).Data)
		}
	}
	if last := events[len(events)-1]; last.Type != domain.TaskSucceededType || out.String() != "using ***\n" {
		t.Fatalf("the task ended %s with output %q, want task.succeeded and the value masked", last.Type, out.String())
	}
}
