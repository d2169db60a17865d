package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/mcpserver"
)

// inMemory connects an MCP client to a server whose tools use c.
func inMemory(t *testing.T, c *client.Client) *session {
	t.Helper()
	server, err := mcpserver.New(mcpserver.Config{ClientFunc: mcpserver.StaticClient(c), ProgressInterval: progressInterval})
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &session{ClientSession: cs, progress: &progressLog{}}
}

// With a static client (as over stdio), a key the API refuses, or none, is
// a tool error that says so; so is an API that does not answer.
func TestStaticClientErrors(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	task := map[string]any{"task_id": "0190f5e4-7c3a-7d1e-9b1a-2f6c1e0b9a11"}
	for _, key := range []string{"", "axt_bogus_key", "axt_abcdefgh_" + "0000000000000000000000000000000000000000000"} {
		c, err := client.New(b.url, client.WithToken(key))
		if err != nil {
			t.Fatal(err)
		}
		s := inMemory(t, c)
		for _, tool := range []string{"get_task_status", "read_task_events", "cancel_task", "verify_task"} {
			got := callErr(t, s, tool, task)
			wantText(t, tool+" with key "+key, got, "API key is missing or invalid", "AXONTASK_API_KEY")
		}
		got := callErr(t, s, "list_tasks", map[string]any{})
		wantText(t, "list_tasks with key "+key, got, "API key is missing or invalid")
		got = callErr(t, s, "start_task", map[string]any{"name": "t", "adapter": "mock"})
		wantText(t, "start_task with key "+key, got, "API key is missing or invalid")
	}

	c, err := client.New("http://127.0.0.1:1", client.WithToken(b.keys[tenantA]))
	if err != nil {
		t.Fatal(err)
	}
	got := callErr(t, inMemory(t, c), "get_task_status", task)
	wantText(t, "an API that does not answer", got, "could not be reached", "AXONTASK_URL")

	// The right key works.
	c, err = client.New(b.url, client.WithToken(b.keys[tenantA]))
	if err != nil {
		t.Fatal(err)
	}
	s := inMemory(t, c)
	id := start(t, s, map[string]any{"steps": 2, "interval_ms": 1})
	checkLog(t, id, follow(t, s, id), "task.succeeded")
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	static := mcpserver.StaticClient(nil)
	for _, cfg := range []mcpserver.Config{
		{},
		{ClientFunc: static, ProgressInterval: -1},
		{ClientFunc: static, ProgressInterval: mcpserver.MaxProgressInterval + 1},
		{ClientFunc: static, TaskPollInterval: -1},
		{ClientFunc: static, TaskPollInterval: time.Microsecond},
	} {
		if _, err := mcpserver.New(cfg); err == nil {
			t.Errorf("New(%+v) did not fail", cfg)
		}
	}
	if _, err := mcpserver.BearerClient("ftp://example.com"); err == nil {
		t.Error("BearerClient accepted an ftp URL")
	}
	server, err := mcpserver.New(mcpserver.Config{ClientFunc: static})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPConfig{}); err == nil {
		t.Error("NewHTTPHandler without an Authenticator did not fail")
	}
	f, err := mcpserver.BearerClient("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f(context.Background(), nil); err == nil {
		t.Error("BearerClient served a call without a credential")
	}
}

// failingAuthenticator cannot check any credential: its store is down.
type failingAuthenticator struct{}

func (failingAuthenticator) Authenticate(context.Context, string) (commands.Principal, error) {
	return commands.Principal{}, errors.New("the store is out of reach")
}

// A credential that cannot be checked answers 503 as a problem, with
// Retry-After, never the store's error.
func TestHTTPCredentialCheckUnavailable(t *testing.T) {
	t.Parallel()
	server, err := mcpserver.New(mcpserver.Config{ClientFunc: mcpserver.StaticClient(nil)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPConfig{Authenticator: failingAuthenticator{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, mcpserver.Path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer axt_whatever")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p api.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusServiceUnavailable || p.Status != http.StatusServiceUnavailable ||
		rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "store is out of reach") {
		t.Fatalf("answer %d %v %s: %v", rec.Code, rec.Header(), rec.Body, err)
	}
}
