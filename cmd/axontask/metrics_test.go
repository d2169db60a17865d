package main

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// commandCount reads GET /metrics of the server at base, as Prometheus
// scrapes it (no credential), and returns axontask_commands_total of
// command and outcome; 0 when the series is absent.
// testMetricsToken is the METRICS_TOKEN of the tests' serve processes
// (prodEnv); scrapes send it, and dev and metrics listeners ignore it.
const testMetricsToken = "metrics-token-of-the-tests"

func commandCount(t *testing.T, base, command, outcome string) float64 {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	// Not http.DefaultClient: the tests' client adds a user's credential.
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics with the metrics token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	series := `axontask_commands_total{command="` + command + `",outcome="` + outcome + `"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %s%s: %v", series, v, err)
			}
			return n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return 0
}
