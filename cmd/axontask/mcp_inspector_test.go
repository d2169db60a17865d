package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testnode"
)

// inspectorDir holds the MCP Inspector and its locked dependencies.
var inspectorDir = filepath.Join("testdata", "mcp-inspector")

// negotiated matches the protocol version of an initialize answer.
var negotiated = regexp.MustCompile(`"protocolVersion":"([^"]+)"`)

// The MCP Inspector's CLI mode, another client we did not write, lists
// AxonTask's tools over Streamable HTTP (with the key in --header) and over
// stdio (axontask mcp, the key in -e), and shows the server's 401 for a
// wrong key. The version each transport negotiated is read off the
// initialize answer: over HTTP through a recording proxy, over stdio
// through tee. It needs Node.js and the npm registry; without Node it
// skips, except in CI, which must have it.
func TestMCPInspectorCLI(t *testing.T) {
	t.Parallel()
	node := testnode.Node(t, inspectorDir, "the MCP Inspector test")
	dev := startDev(t, nil)
	cli := filepath.Join("node_modules", "@modelcontextprotocol", "inspector", "cli", "build", "cli.js")
	inspect := func(t *testing.T, args ...string) (string, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, append([]string{cli, "--cli"}, args...)...)
		cmd.Dir = inspectorDir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	toolNames := func(t *testing.T, out string) []string {
		t.Helper()
		var res struct {
			Tools []struct {
				Name      string `json:"name"`
				Execution *struct {
					TaskSupport string `json:"taskSupport"`
				} `json:"execution"`
			} `json:"tools"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("tools/list printed %q: %v", out, err)
		}
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
			if tl.Name == "start_task" && (tl.Execution == nil || tl.Execution.TaskSupport != "optional") {
				t.Errorf("start_task's execution %+v", tl.Execution)
			}
		}
		slices.Sort(names)
		want := []string{"cancel_task", "get_task_receipt", "get_task_status", "get_usage", "list_tasks", "read_task_events", "start_task", "verify_task"}
		if !slices.Equal(names, want) {
			t.Errorf("tools %v, want %v", names, want)
		}
		return names
	}

	t.Run("http", func(t *testing.T) {
		proxy := recordingProxy(t, dev.base)
		out, stderr, err := inspect(t, proxy.url+"/mcp", "--transport", "http", "--header", "Authorization: Bearer "+dev.key, "--method", "tools/list")
		if err != nil {
			t.Fatalf("inspector: %v\n%s\n%s", err, out, stderr)
		}
		names := toolNames(t, out)
		t.Logf("MCP Inspector CLI over Streamable HTTP negotiated protocol version %s; %d tools", proxy.version(), len(names))

		out, stderr, err = inspect(t, proxy.url+"/mcp", "--transport", "http", "--header", "Authorization: Bearer axt_wrong", "--method", "tools/list")
		if err == nil || !strings.Contains(out+stderr, "401") || !strings.Contains(out+stderr, "Authorization: Bearer <a valid API key") {
			t.Errorf("a wrong key: %v\n%s\n%s", err, out, stderr)
		}
		t.Logf("with a wrong key it reports: %s", strings.TrimSpace(out+stderr))
	})
	t.Run("stdio", func(t *testing.T) {
		answers := filepath.Join(t.TempDir(), "answers")
		// tee keeps a copy of what axontask mcp answers.
		out, stderr, err := inspect(t, "-e", "AXONTASK_URL="+dev.base, "-e", "AXONTASK_API_KEY="+dev.key, "-e", "AXONTASK_BIN="+binary(t), "-e", "ANSWERS="+answers,
			"sh", "-c", `"$AXONTASK_BIN" mcp | tee "$ANSWERS"`, "--method", "tools/list")
		if err != nil {
			t.Fatalf("inspector: %v\n%s\n%s", err, out, stderr)
		}
		names := toolNames(t, out)
		b, err := os.ReadFile(answers)
		if err != nil {
			t.Fatal(err)
		}
		version := ""
		if m := negotiated.FindSubmatch(b); m != nil {
			version = string(m[1])
		}
		t.Logf("MCP Inspector CLI over stdio negotiated protocol version %s; %d tools", version, len(names))
	})
}

// proxy is a reverse proxy to an API that records the protocol version of
// the initialize answers that pass through it.
type proxy struct {
	url string
	mu  sync.Mutex
	got string
}

func (p *proxy) version() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got
}

func recordingProxy(t *testing.T, base string) *proxy {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if m := negotiated.FindSubmatch(body); m != nil {
			p.mu.Lock()
			p.got = string(m[1])
			p.mu.Unlock()
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}
