// Package metrics keeps a process's Prometheus metrics and serves them in
// the Prometheus text format: the Go runtime's and the process's, how many
// commands the handlers of package commands handled, with what outcome, in
// how long, the outages of its dependencies, and the system at work: tasks
// by state and the queue (WatchStore), dispatch latency, commits, the
// feed's consumers' lag, SSE streams, rate-limit refusals and webhook
// deliveries. Each is fed by a hook the process wires (a method of
// Registry given as a Func field), never by calls inside the components.
// ReadHistogram and ReadCounter read a Registry's values back, ParseText
// another process's scrape (the benchmarks report them).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/axontask/axontask/eventstore"
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
	// DispatchLatency is a histogram, in seconds, of how long tasks waited
	// from being due (their task.queued, or its not_before) to a worker's
	// claim (task.started): observed by the worker processes.
	DispatchLatency = "axontask_dispatch_latency_seconds"
	// Commits counts the transactions this process committed appends in.
	Commits = "axontask_commits_total"
	// EventsAppended counts the events those transactions appended.
	EventsAppended = "axontask_events_appended_total"
	// CommitAppends is a histogram of the appends (streams) of each
	// committed transaction: above 1 when appends share one (group commit,
	// batch start).
	CommitAppends = "axontask_commit_appends"
	// SSEStreams is, by "kind" (task or tenant), how many SSE streams this
	// process serves now.
	SSEStreams = "axontask_sse_streams"
	// RateLimited counts requests refused 429 by a rate limit, by "limit"
	// (request, auth, token or keys).
	RateLimited = "axontask_rate_limited_total"
	// WebhookAttempts counts webhook delivery attempts this process made,
	// by "outcome" (succeeded, retrying or failed).
	WebhookAttempts = "axontask_webhook_attempts_total"
	// WebhookDeliveryLatency is a histogram, in seconds, of how long an
	// event took from its commit to its receiver's 2xx.
	WebhookDeliveryLatency = "axontask_webhook_delivery_latency_seconds"
)

// dispatchBuckets resolve the sub-millisecond to the few milliseconds of
// a dispatch from a warm queue, and reach the minutes of a backlog.
var dispatchBuckets = []float64{.00025, .0005, .00075, .001, .0015, .002, .003, .004, .005, .0075, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// commitBuckets are powers of two up to eventstore's batch bounds.
var commitBuckets = prometheus.ExponentialBuckets(1, 2, 11)

// webhookBuckets span a receiver on the same network to retries hours
// later.
var webhookBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}

// durationBuckets span a start (under a millisecond) to a login (an
// Argon2id hash, tens of milliseconds, more when hashes queue).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Registry holds one process's metrics. It is a commands.MetricsClient; it
// is safe for concurrent use.
type Registry struct {
	reg            *prometheus.Registry
	commands       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	dispatch       prometheus.Histogram
	commits        prometheus.Counter
	events         prometheus.Counter
	commitAppends  prometheus.Histogram
	streams        *prometheus.GaugeVec
	refused        *prometheus.CounterVec
	webhooks       *prometheus.CounterVec
	webhookLatency prometheus.Histogram
}

// New returns a Registry with the Go runtime's and the process's
// collectors, the command metrics and the hooks' metrics (each series
// without labels is there from the start, at 0).
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
		dispatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    DispatchLatency,
			Help:    "How long tasks waited from being due (task.queued, or its not_before) to a worker's claim (task.started), in seconds.",
			Buckets: dispatchBuckets,
		}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: Commits,
			Help: "Transactions this process committed appends in.",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: EventsAppended,
			Help: "Events appended by the transactions this process committed.",
		}),
		commitAppends: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    CommitAppends,
			Help:    "Appends (streams) per committed transaction: above 1 when appends share one (group commit, batch start).",
			Buckets: commitBuckets,
		}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: SSEStreams,
			Help: "SSE streams this process serves now, by kind (task or tenant).",
		}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RateLimited,
			Help: "Requests refused 429 by a rate limit, by limit (request, auth, token or keys).",
		}, []string{"limit"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: WebhookAttempts,
			Help: "Webhook delivery attempts made, by outcome (succeeded, retrying or failed).",
		}, []string{"outcome"}),
		webhookLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    WebhookDeliveryLatency,
			Help:    "How long events took from their commit to their receiver's 2xx, in seconds.",
			Buckets: webhookBuckets,
		}),
	}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.commands, r.duration, outages{}, r.dispatch, r.commits, r.events, r.commitAppends, r.streams, r.refused, r.webhooks, r.webhookLatency)
	return r
}

// CommandHandled records one handled command or query.
func (r *Registry) CommandHandled(name, outcome string, took time.Duration) {
	r.commands.WithLabelValues(name, outcome).Inc()
	r.duration.WithLabelValues(name).Observe(took.Seconds())
}

// ObserveDispatch records one task's dispatch latency: a worker's
// ClaimedFunc (worker.Config).
func (r *Registry) ObserveDispatch(latency time.Duration) {
	r.dispatch.Observe(latency.Seconds())
}

// ObserveCommit records one committed transaction of appends appends and
// events events: the store's ObserveCommitFunc (eventstore.Options).
func (r *Registry) ObserveCommit(appends, events int) {
	r.commits.Inc()
	r.events.Add(float64(events))
	r.commitAppends.Observe(float64(appends))
}

// StreamOpened counts an SSE stream of kind (task or tenant) open until
// the returned function is called: readapi's StreamFunc.
func (r *Registry) StreamOpened(kind string) (closed func()) {
	g := r.streams.WithLabelValues(kind)
	g.Inc()
	return g.Dec
}

// RateLimited counts one request refused by the rate limit of kind:
// readapi's RateLimitedFunc.
func (r *Registry) RateLimited(kind string) {
	r.refused.WithLabelValues(kind).Inc()
}

// WebhookAttempted records one webhook delivery attempt by the state it
// left the delivery in (pending is counted as outcome "retrying"); for a
// success, delivered is how long the event took from its commit to the
// receiver's 2xx: the webhook sender's ObserveFunc.
func (r *Registry) WebhookAttempted(state eventstore.DeliveryState, delivered time.Duration) {
	switch state {
	case eventstore.DeliverySucceeded:
		r.webhookLatency.Observe(delivered.Seconds())
	case eventstore.DeliveryPending:
		state = "retrying"
	case eventstore.DeliveryFailed:
	}
	r.webhooks.WithLabelValues(string(state)).Inc()
}

// Gatherer returns the registry's metrics as Prometheus gathers them: for
// Read.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the metrics in the Prometheus exposition format, for GET
// /metrics. A metric that cannot be read now (the store's, when the
// store does not answer) is left out of the answer; the others are served.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg, ErrorHandling: promhttp.ContinueOnError})
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
