package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/internal/metrics"
)

// A dependency's outage shows in the metrics while it lasts, and is
// counted once it has ended.
func TestDependencyOutages(t *testing.T) {
	reg := metrics.New()
	scrape := func() string {
		t.Helper()
		rec := httptest.NewRecorder()
		reg.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	const call = "metrics test: call"
	r := &backoff.Retry{Dependency: backoff.DependencyBus, What: call, Logger: slog.New(slog.DiscardHandler), Min: time.Millisecond}
	failing := `axontask_dependency_failing{call="` + call + `",dependency="bus"} `
	outages := `axontask_dependency_outages_total{call="` + call + `",dependency="bus"} `
	if out := scrape(); strings.Contains(out, failing) {
		t.Fatalf("a call that never failed is listed:\n%s", out)
	}
	for range 3 {
		_ = r.Failed(context.Background(), errors.New("connection refused"))
	}
	if out := scrape(); !strings.Contains(out, failing+"1\n") || !strings.Contains(out, outages+"1\n") {
		t.Fatalf("during the outage, want failing 1 and 1 outage:\n%s", out)
	}
	r.Succeeded()
	if out := scrape(); !strings.Contains(out, failing+"0\n") || !strings.Contains(out, outages+"1\n") {
		t.Fatalf("after the outage, want failing 0 and 1 outage:\n%s", out)
	}
}
