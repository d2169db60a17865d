package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/mcpserver"
	meters "github.com/axontask/axontask/usage"
)

// TestUsageKill9LosesAtMostOneFlushInterval opens SSE streams on dev,
// which flushes its usage counts every 250 ms, and kills it with SIGKILL:
// every stream opened more than a flush interval (plus a second for the
// flush's own append on a loaded machine) before the kill is in the log,
// none is counted twice, and a restarted dev serves the same count from
// its usage counters.
func TestUsageKill9LosesAtMostOneFlushInterval(t *testing.T) {
	t.Parallel()
	const interval = 250 * time.Millisecond
	const appendSlack = time.Second
	dataDir := t.TempDir()
	dev := startDevIn(t, dataDir, "USAGE_FLUSH_INTERVAL="+interval.String(), "RATE_LIMIT_PER_MINUTE=1000000")
	id := post(t, dev, `{"name":"short","adapter":"mock","args":{"steps":2,"interval_ms":1}}`)
	var opened []time.Time
	for began := time.Now(); time.Since(began) < 3*time.Second; {
		resp := devGet(t, dev, "/mcp/tasks/"+id+"/stream?since_seq=0", "text/event-stream")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %s", resp.Status)
		}
		opened = append(opened, time.Now()) // counted before the answer's header
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	killed := time.Now()
	_ = dev.cmd.Process.Kill()
	_ = dev.cmd.Wait()

	counted := storedStreams(t, dataDir, dev)
	mustHave := 0
	for _, at := range opened {
		if at.Before(killed.Add(-interval - appendSlack)) {
			mustHave++
		}
	}
	t.Logf("%d streams opened, %d in the log; %d opened more than %s before the kill", len(opened), counted, mustHave, interval+appendSlack)
	if counted < int64(mustHave) || counted > int64(len(opened)) {
		t.Fatalf("%d streams in the log; want from %d to %d", counted, mustHave, len(opened))
	}

	again := startDevIn(t, dataDir, "RATE_LIMIT_PER_MINUTE=1000000")
	testwait.For(t, "the restarted dev's usage counters", func() bool {
		resp := devGet(t, again, "/v1/usage", "application/json")
		defer func() { _ = resp.Body.Close() }()
		var u api.Usage
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			t.Fatal(err)
		}
		return u.StreamsOpened == counted && u.TasksStarted == 1
	})
}

// storedStreams sums the streams_opened of dev's tenant's usage events of
// today (and yesterday, for a test that runs across midnight UTC).
func storedStreams(t *testing.T, dataDir string, dev *devProc) int64 {
	t.Helper()
	s := openQuiet(t, dataDir)
	defer func() { _ = s.Close() }()
	tenantID := devTenant(t, dev)
	var n int64
	for _, day := range []time.Time{time.Now().AddDate(0, 0, -1), time.Now()} {
		events, err := s.ReadStream(t.Context(), meters.StreamID(tenantID, day), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			p, err := domain.Decode(e.Type, e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			n += p.(*domain.UsageRecorded).StreamsOpened
		}
	}
	return n
}

// devTenant returns the tenant of dev's API key, from the first event of
// the data dir's feed: dev's tenant is the first created.
func devTenant(t *testing.T, dev *devProc) string {
	t.Helper()
	s := openQuiet(t, dev.dataDir)
	defer func() { _ = s.Close() }()
	first, err := s.ReadFeed(t.Context(), 0, 1)
	if err != nil || len(first) == 0 {
		t.Fatalf("read the feed: %v", err)
	}
	return first[0].TenantID
}

// devGet sends a GET with dev's key.
func devGet(t *testing.T, dev *devProc, path, accept string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, dev.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+dev.key)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestUsageCommand prints the usage of dev's tenant after a task, as a
// table and as JSON.
func TestUsageCommand(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	post(t, dev, `{"name":"short","adapter":"mock","args":{"steps":2,"interval_ms":1}}`)
	c := newClientCLI(t, dev.base, dev.key)
	testwait.For(t, "the task in the usage", func() bool {
		var u api.Usage
		if err := json.Unmarshal([]byte(c.mustRun("", "usage", "-json").stdout), &u); err != nil {
			t.Fatal(err)
		}
		return u.TasksStarted == 1 && u.TaskMinutes == 1 && u.Period == time.Now().UTC().Format("2006-01")
	})
	out := c.mustRun("", "usage", "-days").stdout
	for _, want := range []string{"usage of " + time.Now().UTC().Format("2006-01"), "TASK-MINUTES", time.Now().UTC().Format(time.DateOnly), "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("usage -days does not say %q:\n%s", want, out)
		}
	}
}

// TestBillingCommand prints the billing view for dev's owner; its API key
// may not see it.
func TestBillingCommand(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	if res := newClientCLI(t, dev.base, dev.key).run("", "billing"); res.code != exitAuth || !strings.Contains(res.stderr, "manage_billing") {
		t.Errorf("billing with an API key: exit %d, %s", res.code, res.stderr)
	}
	user := newClientCLI(t, dev.base, "")
	password := devPassword(t, dev)
	user.secrets = append(user.secrets, password)
	user.mustRun(password+"\n", "login", "-email", "dev@localhost")
	var b api.Billing
	if err := json.Unmarshal([]byte(user.mustRun("", "billing", "-json").stdout), &b); err != nil {
		t.Fatal(err)
	}
	if b.Period != time.Now().UTC().Format("2006-01") || b.Estimate.Currency != "usd" || len(b.Lines) != 4 {
		t.Errorf("billing -json: %+v", b)
	}
	out := user.mustRun("", "billing").stdout
	for _, want := range []string{"on the " + b.Plan + " plan", "task_minutes", "estimate", "usd"} {
		if !strings.Contains(out, want) {
			t.Errorf("billing does not say %q:\n%s", want, out)
		}
	}
}

// TestBillingOffCallsNoStripe runs dev with Stripe's keys, prices and an
// API address set, but BILLING_ENABLED unset: the Stripe routes do not
// exist, tasks run, and nothing ever reaches the address.
// With BILLING_ENABLED=true the same address is called (and, as it is no
// Stripe, a checkout answers 502).
func TestBillingOffCallsNoStripe(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "not Stripe", http.StatusTeapot)
	}))
	t.Cleanup(fake.Close)
	env := []string{"STRIPE_SECRET_KEY=sk_test_123", "STRIPE_WEBHOOK_SECRET=whsec_x", "STRIPE_PRICE_PRO=price_pro", "STRIPE_API_URL=" + fake.URL,
		"BILLING_SUCCESS_URL=https://a.example/ok", "BILLING_CANCEL_URL=https://a.example/no", "BILLING_RETURN_URL=https://a.example/"}

	off := startDevIn(t, t.TempDir(), env...)
	owner := devOwnerToken(t, off)
	for _, path := range []string{"/v1/billing/checkout", "/v1/billing/portal", "/v1/billing/stripe/webhook"} {
		if status := devPost(t, off, path, owner, `{"plan":"pro"}`); status != http.StatusNotFound {
			t.Errorf("billing off: POST %s answered %d, want 404", path, status)
		}
	}
	post(t, off, `{"name":"short","adapter":"mock","args":{"steps":1,"interval_ms":1}}`)
	if n := calls.Load(); n != 0 {
		t.Fatalf("billing off: %d calls reached the Stripe address", n)
	}

	on := startDevIn(t, t.TempDir(), append(env, "BILLING_ENABLED=true")...)
	if status := devPost(t, on, "/v1/billing/checkout", devOwnerToken(t, on), `{"plan":"pro"}`); status != http.StatusBadGateway || calls.Load() == 0 {
		t.Fatalf("billing on: checkout answered %d after %d calls to the address; want 502 after some", status, calls.Load())
	}
}

// devOwnerToken signs in as dev's user, the owner of its tenant, and
// returns the access token.
func devOwnerToken(t *testing.T, dev *devProc) string {
	t.Helper()
	body := fmt.Sprintf(`{"email":"dev@localhost","password":%q}`, devPassword(t, dev))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, dev.base+"/v1/auth/login", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("login: %s, %v", resp.Status, err)
	}
	return tok.AccessToken
}

// devPost sends a POST with a bearer token and returns the status.
func devPost(t *testing.T, dev *devProc, path, token, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, dev.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestMCPToolStreamsAreNotMetered: an MCP tool that follows a task opens
// a stream through the API on the caller's behalf; the caller's usage
// counts the tool calls, not that stream or its bytes.
func TestMCPToolStreamsAreNotMetered(t *testing.T) {
	t.Parallel()
	dev := startDevIn(t, t.TempDir(), "USAGE_FLUSH_INTERVAL=50ms")
	transport := &mcp.StreamableClientTransport{
		Endpoint:   dev.base + mcpserver.Path,
		HTTPClient: &http.Client{Transport: headerTransport{"Authorization", "Bearer " + dev.key}},
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close() }()
	var started mcpserver.StartTaskOutput
	mcpCall(t, cs, "start_task", map[string]any{"name": "followed", "adapter": "mock", "args": map[string]any{"steps": 3, "interval_ms": 200}}, &started)
	// Waits for events on the task's live stream, which the tool opens.
	mcpCall(t, cs, "read_task_events", map[string]any{"task_id": started.TaskID, "since_seq": 2, "wait_s": 5}, nil)
	c := newClientCLI(t, dev.base, dev.key)
	testwait.For(t, "both tool calls in the usage", func() bool {
		var u api.Usage
		if err := json.Unmarshal([]byte(c.mustRun("", "usage", "-json").stdout), &u); err != nil {
			t.Fatal(err)
		}
		if u.StreamsOpened != 0 || u.BytesStreamed != 0 {
			t.Fatalf("usage %+v counts the tool's own stream", u)
		}
		return u.MCPCalls >= 2
	})
}
