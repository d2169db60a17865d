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
