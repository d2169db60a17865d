// Package metrics keeps a process's Prometheus metrics and serves them in
// the Prometheus text format: the Go runtime's and the process's, and how
// many commands the handlers of package commands handled, with what
// outcome, in how long, and the outages of its dependencies.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/axontask/axontask/internal/backoff"
)

// Metric names. They are part of the operations contract (dashboards and
// alerts use them): never rename one.
const (
	// CommandsTotal counts handled commands and queries, by "command" (the
	// command type's name: StartTask, Login, ListAPIKeys, …) and "outcome"
	// (success or failure).
	CommandsTotal = "axontask_commands_total"
	// CommandDuration is a histogram of how long handling took, in
	// seconds, by "command".
	CommandDuration = "axontask_command_duration_seconds"
	// DependencyFailing is, by "dependency" (store, bus or stripe) and "call" (the
	// name its log lines use), how many of the process's callers find the
	// dependency failing now: 0 while it works. Alert on it.
	DependencyFailing = "axontask_dependency_failing"
	// DependencyOutages counts, by "dependency" and "call", the runs of
	// failures since the process started.
	DependencyOutages = "axontask_dependency_outages_total"
)

// durationBuckets span a start (under a millisecond) to a login (an
// Argon2id hash, tens of milliseconds, more when hashes queue).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Registry holds one process's metrics. It is a commands.MetricsClient; it
// is safe for concurrent use.
type Registry struct {
	reg      *prometheus.Registry
	commands *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns a Registry with the Go runtime's and the process's
// collectors and the command metrics.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: CommandsTotal,
			Help: "Commands and queries handled, by command and outcome (success or failure).",
		}, []string{"command", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    CommandDuration,
			Help:    "How long handling a command or query took, in seconds.",
			Buckets: durationBuckets,
		}, []string{"command"}),
	}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), r.commands, r.duration, outages{})
	return r
}

// CommandHandled records one handled command or query.
func (r *Registry) CommandHandled(name, outcome string, took time.Duration) {
	r.commands.WithLabelValues(name, outcome).Inc()
	r.duration.WithLabelValues(name).Observe(took.Seconds())
}

// Handler serves the metrics in the Prometheus exposition format, for GET
// /metrics.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

var (
	dependencyFailingDesc = prometheus.NewDesc(DependencyFailing,
		"Callers of this process that find a dependency failing now, by dependency (store or bus) and call; 0 while it works.",
		[]string{"dependency", "call"}, nil)
	dependencyOutagesDesc = prometheus.NewDesc(DependencyOutages,
		"Runs of failures of calls to a dependency since the process started, by dependency and call.",
		[]string{"dependency", "call"}, nil)
)

// outages collects the process's dependency outages (backoff.Snapshot) at
// each scrape. A call appears once it has failed.
type outages struct{}

func (outages) Describe(ch chan<- *prometheus.Desc) {
	ch <- dependencyFailingDesc
	ch <- dependencyOutagesDesc
}

func (outages) Collect(ch chan<- prometheus.Metric) {
	for _, c := range backoff.Snapshot() {
		ch <- prometheus.MustNewConstMetric(dependencyFailingDesc, prometheus.GaugeValue, float64(c.Failing), c.Dependency, c.What)
		ch <- prometheus.MustNewConstMetric(dependencyOutagesDesc, prometheus.CounterValue, float64(c.Outages), c.Dependency, c.What)
	}
}
