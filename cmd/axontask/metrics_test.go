package main

import "testing"

// testMetricsToken is the METRICS_TOKEN of the tests' serve processes
// (prodEnv); scrapes send it, and dev and metrics listeners ignore it.
const testMetricsToken = "metrics-token-of-the-tests"

// commandCount reads GET /metrics of the server at base, as Prometheus
// scrapes it (see scrape), and returns axontask_commands_total of command
// and outcome; 0 when the series is absent.
func commandCount(t *testing.T, base, command, outcome string) float64 {
	t.Helper()
	m := series(scrape(t, base), "axontask_commands_total", "command", command, "outcome", outcome)
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
