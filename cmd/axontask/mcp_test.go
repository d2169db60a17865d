package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/mcpserver"
)

func TestLoopbackURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "http://127.0.0.1:80"},
		{&net.TCPAddr{Port: 1}, "http://127.0.0.1:1"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, "http://127.0.0.1:9"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9}, "http://[::1]:9"},
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 9}, "http://10.1.2.3:9"},
	}
	for _, tc := range tests {
		if got, err := loopbackURL(tc.addr); err != nil || got != tc.want {
			t.Errorf("loopbackURL(%s) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
	if _, err := loopbackURL(&net.UnixAddr{Name: "/tmp/x", Net: "unix"}); err == nil {
		t.Error("loopbackURL of a Unix socket did not fail")
	}
}

// mcpText returns a tool result's text.
func mcpText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// mcpCall calls a tool and decodes its structured content into out (when
// not nil); a protocol error fails the test.
func mcpCall(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if out != nil {
		if res.IsError {
			t.Fatalf("%s %v: %s", name, args, mcpText(res))
		}
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %s: %v", name, b, err)
		}
	}
	return res
}

// followMCP starts a mock task through cs, follows it with
// read_task_events to its end and checks the log.
func followMCP(t *testing.T, cs *mcp.ClientSession) string {
	t.Helper()
	var started mcpserver.StartTaskOutput
	mcpCall(t, cs, "start_task", map[string]any{"name": "mcp", "adapter": "mock", "args": map[string]any{"steps": 3, "interval_ms": 10}}, &started)
	var events []domain.Event
	since := int64(0)
	for range 100 {
		var out mcpserver.ReadTaskEventsOutput
		mcpCall(t, cs, "read_task_events", map[string]any{"task_id": started.TaskID, "since_seq": since, "wait_s": 10}, &out)
		for _, raw := range out.Events {
			var e domain.Event
			if err := e.UnmarshalJSON(raw); err != nil {
				t.Fatal(err)
			}
			if e.Payload, _ = integrity.CanonicalPayload(e.Payload); e.Seq != int64(len(events)+1) {
				t.Fatalf("seq %d after %d events", e.Seq, len(events))
			}
			events = append(events, e)
		}
		since = out.NextSeq
		if out.Ended {
			break
		}
	}
	if len(events) == 0 || events[len(events)-1].Type != domain.TaskSucceededType {
		t.Fatalf("%d events, not ending with task.succeeded", len(events))
	}
	if err := integrity.Verify(events); err != nil {
		t.Fatal(err)
	}
	var v mcpserver.VerifyTaskOutput
	if mcpCall(t, cs, "verify_task", map[string]any{"task_id": started.TaskID}, &v); !v.Verified || v.LastSeq != since {
		t.Fatalf("verify_task = %+v", v)
	}
	return started.TaskID
}

// The binary's MCP: `axontask mcp` on stdio, launched as a desktop client
// launches it, and Streamable HTTP at /mcp of `axontask dev`, both driven
// by the official Go SDK's client against a running server.
func TestMCPProcess(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	base, key := dev.base, dev.key

	t.Run("stdio", func(t *testing.T) {
		t.Parallel()
		cmd := exec.CommandContext(t.Context(), binary(t), "mcp")
		cmd.Env = append(os.Environ(), "AXONTASK_URL="+base, "AXONTASK_API_KEY="+key, "LOG_LEVEL=debug")
		logs := &syncBuffer{}
		cmd.Stderr = io.MultiWriter(logs, processLogs(t))
		transport := &mcp.CommandTransport{Command: cmd, TerminateDuration: 10 * time.Second}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), transport, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("MCP over stdio: protocol version %s negotiated", cs.InitializeResult().ProtocolVersion)
		tools, err := cs.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range tools.Tools {
			names = append(names, tool.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"cancel_task", "get_task_receipt", "get_task_status", "get_usage", "list_tasks", "read_task_events", "start_task", "verify_task"}) {
			t.Fatalf("tools %v", names)
		}
		id := followMCP(t, cs)
		if res := mcpCall(t, cs, "cancel_task", map[string]any{"task_id": id}, nil); !res.IsError || !strings.Contains(mcpText(res), "succeeded") {
			t.Errorf("cancel_task of a finished task: %s", mcpText(res))
		}
		var long mcpserver.StartTaskOutput
		mcpCall(t, cs, "start_task", map[string]any{"name": "long", "adapter": "mock", "args": map[string]any{"steps": 10000, "interval_ms": 50}}, &long)
		var canceled mcpserver.CancelTaskOutput
		if mcpCall(t, cs, "cancel_task", map[string]any{"task_id": long.TaskID}, &canceled); !canceled.Canceled {
			t.Errorf("cancel_task = %+v", canceled)
		}

		// Closing stdin stops the process, cleanly and at once.
		began := time.Now()
		if err := cs.Close(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took > 5*time.Second || cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 0 {
			t.Fatalf("after stdin closed: %v after %s", cmd.ProcessState, took)
		}
		if l := logs.String(); !strings.Contains(l, "serving on stdio") || !strings.Contains(l, "stdin closed") {
			t.Errorf("stderr: %s", l)
		}
	})

	t.Run("stdio 2025-11-25", func(t *testing.T) {
		t.Parallel()
		cmd := exec.CommandContext(t.Context(), binary(t), "mcp", "-url", base)
		cmd.Env = append(os.Environ(), "AXONTASK_API_KEY="+key)
		cmd.Stderr = processLogs(t)
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(),
			&mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cs.Close() }()
		t.Logf("MCP over stdio: protocol version %s negotiated (asked for 2025-11-25)", cs.InitializeResult().ProtocolVersion)
		followMCP(t, cs)
	})

	t.Run("stdio with a wrong key", func(t *testing.T) {
		t.Parallel()
		cmd := exec.CommandContext(t.Context(), binary(t), "mcp", "-url", base)
		cmd.Env = append(os.Environ(), "AXONTASK_API_KEY=axt_wrong")
		cmd.Stderr = processLogs(t)
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cs.Close() }()
		res := mcpCall(t, cs, "list_tasks", map[string]any{}, nil)
		if !res.IsError || !strings.Contains(mcpText(res), "API key is missing or invalid") {
			t.Fatalf("list_tasks with a wrong key: %s", mcpText(res))
		}
	})

	t.Run("http", func(t *testing.T) {
		t.Parallel()
		transport := &mcp.StreamableClientTransport{
			Endpoint:   base + mcpserver.Path,
			HTTPClient: &http.Client{Transport: headerTransport{"Authorization", "Bearer " + key}},
		}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), transport, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cs.Close() }()
		t.Logf("MCP over Streamable HTTP (axontask dev): protocol version %s negotiated", cs.InitializeResult().ProtocolVersion)
		followMCP(t, cs)

		// Without a key: 401 before any MCP processing.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+mcpserver.Path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("POST /mcp without a key: %d", resp.StatusCode)
		}
	})
}

// headerTransport sets one header on every request.
type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

func TestMCPUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"mcp", "-url", "ftp://example.com"}, {"mcp", "-url", "http://example.com", "extra"}, {"mcp", "-nope"}} {
		if _, errOut, code := runCLI(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
	// Stdin at its end: the server stops at once, writing nothing to stdout.
	out, errOut, code := runCLI(t, "", "mcp", "-url", "http://127.0.0.1:1")
	if code != exitOK || out != "" {
		t.Errorf("mcp with stdin closed: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
}
