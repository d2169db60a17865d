package metrics_test

import (
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/metrics"
)

// The read API gives back what the hooks recorded: counters by name,
// histograms' counts and quantiles, and what happened between two reads.
func TestRead(t *testing.T) {
	reg := metrics.New()
	before, err := metrics.ReadHistogram(reg.Gatherer(), metrics.DispatchLatency)
	if err != nil {
		t.Fatal(err)
	}
	if before.Count != 0 || !math.IsNaN(before.Quantile(.5)) {
		t.Fatalf("a fresh histogram: count %d, p50 %v; want 0 and NaN", before.Count, before.Quantile(.5))
	}
	// 90 dispatches of 1.2 ms and 10 of 40 ms: p50 in the (1 ms, 1.5 ms]
	// bucket, p99 in (25 ms, 50 ms].
	for range 90 {
		reg.ObserveDispatch(1200 * time.Microsecond)
	}
	for range 10 {
		reg.ObserveDispatch(40 * time.Millisecond)
	}
	h, err := metrics.ReadHistogram(reg.Gatherer(), metrics.DispatchLatency)
	if err != nil {
		t.Fatal(err)
	}
	if p50, p99 := h.Quantile(.5), h.Quantile(.99); h.Count != 100 || p50 <= .001 || p50 > .0015 || p99 <= .025 || p99 > .05 {
		t.Fatalf("count %d, p50 %v, p99 %v; want 100, in (1 ms, 1.5 ms], in (25 ms, 50 ms]", h.Count, p50, p99)
	}
	reg.ObserveDispatch(time.Hour) // past the last bucket: the quantile is its bound
	later, err := metrics.ReadHistogram(reg.Gatherer(), metrics.DispatchLatency)
	if err != nil {
		t.Fatal(err)
	}
	if d := later.Sub(h); d.Count != 1 || d.Quantile(.5) != 300 {
		t.Fatalf("since the last read: count %d, p50 %v; want 1 and the last bound, 300", d.Count, d.Quantile(.5))
	}

	reg.ObserveCommit(3, 7)
	reg.ObserveCommit(1, 2)
	for name, want := range map[string]float64{metrics.Commits: 2, metrics.EventsAppended: 9} {
		if v, err := metrics.ReadCounter(reg.Gatherer(), name); err != nil || v != want {
			t.Fatalf("%s: %v, %v; want %v", name, v, err, want)
		}
	}
	if appends, err := metrics.ReadHistogram(reg.Gatherer(), metrics.CommitAppends); err != nil || appends.Count != 2 || appends.Sum != 4 {
		t.Fatalf("%s: %+v, %v; want 2 commits of 4 appends", metrics.CommitAppends, appends, err)
	}
	reg.RateLimited("auth")
	reg.RateLimited("request")
	if v, err := metrics.ReadCounter(reg.Gatherer(), metrics.RateLimited); err != nil || v != 2 {
		t.Fatalf("%s summed over its limits: %v, %v; want 2", metrics.RateLimited, v, err)
	}
	if _, err := metrics.ReadCounter(reg.Gatherer(), "axontask_no_such_metric"); err == nil {
		t.Fatal("reading a metric that does not exist did not fail")
	}
	if _, err := metrics.ReadCounter(reg.Gatherer(), metrics.DispatchLatency); err == nil {
		t.Fatal("reading a histogram as a counter did not fail")
	}
}

// A scrape of another process's /metrics reads the same as its registry.
func TestParseText(t *testing.T) {
	reg := metrics.New()
	reg.ObserveCommit(2, 5)
	reg.ObserveDispatch(3 * time.Millisecond)
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/metrics", nil))
	g, err := metrics.ParseText(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := metrics.ReadCounter(g, metrics.EventsAppended); err != nil || v != 5 {
		t.Fatalf("%s from the scrape: %v, %v; want 5", metrics.EventsAppended, v, err)
	}
	h, err := metrics.ReadHistogram(g, metrics.DispatchLatency)
	if p50 := h.Quantile(.5); err != nil || h.Count != 1 || p50 <= .002 || p50 > .003 {
		t.Fatalf("%s from the scrape: count %d, p50 %v, %v; want 1 in (2 ms, 3 ms]", metrics.DispatchLatency, h.Count, p50, err)
	}
	if _, err := metrics.ParseText(strings.NewReader("not the text format {")); err == nil {
		t.Fatal("ParseText of garbage did not fail")
	}
}
