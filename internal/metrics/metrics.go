// Package metrics keeps a process's Prometheus metrics and serves them in
// the Prometheus text format: the Go runtime's and the process's, and how
// many commands the handlers of package commands handled, with what
// outcome, in how long.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), r.commands, r.duration)
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
