package readapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/axontask/axontask/ratelimit"
)

// A credential past its limit gets 429 with Retry-After and the RateLimit
// headers; another credential is not affected.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{list: true, requestLimit: ratelimit.Limit{Rate: 3, Burst: 3, Period: time.Hour}}, func(t *testing.T, b *bundle) {
		for i := range 3 {
			resp := b.do(t, "GET", "/v1/tasks", tenantA, "")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) || resp.Header.Get("RateLimit-Limit") != "3" {
				t.Fatalf("request %d: %d, RateLimit-Remaining %q, -Limit %q", i+1, resp.StatusCode, resp.Header.Get("RateLimit-Remaining"), resp.Header.Get("RateLimit-Limit"))
			}
		}
		resp := b.do(t, "GET", "/v1/tasks", tenantA, "")
		p := decode[map[string]any](t, resp, http.StatusTooManyRequests)
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || retry < 1100 || retry > 1200 || p["type"] != "urn:axontask:problem:rate-limited" {
			t.Fatalf("429 with Retry-After %q and %v; want about 1200 s (an hour / 3)", resp.Header.Get("Retry-After"), p)
		}
		if resp := b.do(t, "GET", "/v1/tasks", tenantB, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("another tenant's key: %d", resp.StatusCode)
		}
	})
}

// Browsers on an allowed origin get CORS headers and their preflights
// answered; other origins get none.
func TestCORS(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{cors: []string{"https://app.example.com"}}, func(t *testing.T, b *bundle) {
		pre := b.send(t, "OPTIONS", "/mcp/start_task", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
		if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			pre.Header.Get("Access-Control-Allow-Headers") == "" || pre.Header.Get("Access-Control-Allow-Methods") != "GET, POST, PATCH, DELETE" {
			t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
		}
		got := b.do(t, "GET", "/v1/tasks/"+b.start(t).TaskID+"/events", tenantA, "", "Origin", "https://app.example.com")
		if got.StatusCode != http.StatusOK || got.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Fatalf("GET from an allowed origin: %d %v", got.StatusCode, got.Header)
		}
		other := b.send(t, "OPTIONS", "/mcp/start_task", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		if other.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("another origin got %v", other.Header)
		}
	})
}

// A start past the plan's daily cap answers 429 with the limit, the usage
// and when it resets: the next midnight UTC of the quotas' clock, pinned
// here half a minute before it.
func TestDailyQuotaAnswer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 10, 23, 59, 30, 0, time.UTC)
	o := setupOpts{plans: map[string]string{"PLAN_TRIAL_TASKS_PER_DAY": "2"}, now: func() time.Time { return now }}
	forEachStore(t, o, func(t *testing.T, b *bundle) {
		b.start(t)
		b.start(t)
		resp := b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"t","adapter":"mock","args":{"steps":1}}`)
		p := decode[map[string]any](t, resp, http.StatusTooManyRequests)
		if p["type"] != "urn:axontask:problem:quota-exceeded" || p["limit"] != 2.0 || p["used"] != 2.0 || p["plan"] != "trial" || p["resets_at"] != "2026-03-11T00:00:00.000000Z" {
			t.Fatalf("quota problem %v", p)
		}
		if got := resp.Header.Get("Retry-After"); got != "30" {
			t.Fatalf("Retry-After %q, want 30 (seconds to midnight)", got)
		}
		resp = b.do(t, "POST", "/mcp/start_task", tenantB, `{"name":"t","adapter":"mock","args":{"steps":1},"timeout_s":601}`)
		if p := decode[map[string]any](t, resp, http.StatusBadRequest); p["field"] != "timeout_s" {
			t.Fatalf("timeout past the plan's: %v", p)
		}
	})
}

// Resume-token reads and sign-ins from one address are counted apart:
// reading streams never eats into the sign-in budget.
func TestAddressLimitsAreApart(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		for range 3 {
			b.send(t, "GET", "/mcp/tasks/"+st.TaskID+"/status?token="+st.ResumeToken, "")
		}
		resp := b.send(t, "POST", "/v1/auth/login", `{"email":"nobody@example.com","password":"wrong password"}`)
		if got := resp.Header.Get("RateLimit-Remaining"); got != "19" {
			t.Fatalf("the first sign-in leaves %q of 20, want 19", got)
		}
	})
}
