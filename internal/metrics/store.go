package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/projections"
)

// Metric names of WatchStore: read from the store at a scrape.
const (
	// Tasks is, by "state", how many tasks the task list read model holds
	// (every tenant's).
	Tasks = "axontask_tasks"
	// QueueDepth is how many tasks are queued.
	QueueDepth = "axontask_queue_depth"
	// QueueOldestAge is how long ago the task queued the longest ago was
	// queued, in seconds; 0 when none is queued.
	QueueOldestAge = "axontask_queue_oldest_age_seconds"
	// FeedConsumerLag is, by "consumer" (relay, task_views, tenant_feed,
	// usage_counters, webhook_dispatch), how many events of the feed the
	// consumer has not handled yet.
	FeedConsumerLag = "axontask_feed_consumer_lag_events"
	// SealerPending is how many committed appends the sealer has not given
	// feed positions yet (Postgres).
	SealerPending = "axontask_sealer_pending_appends"
)

// How often and how long a scrape reads the store: its answers are kept
// for storeCacheFor, so that many scrapers cost one read, and a read that
// takes longer than storeTimeout is given up (its metrics are left out).
const (
	storeCacheFor = 5 * time.Second
	storeTimeout  = 3 * time.Second
)

// StoreStats is what WatchStore reads of the store: both engines' stores
// have it.
type StoreStats interface {
	// TaskViewsCount sums the task list read model over every tenant.
	TaskViewsCount(ctx context.Context) (projections.TaskCounts, error)
	// FeedHead returns the number of events in the feed.
	FeedHead(ctx context.Context) (int64, error)
	// CheckpointList returns every feed consumer's next position, by name.
	CheckpointList(ctx context.Context) (map[string]int64, error)
}

// SealerStats is what a store whose feed positions are given after the
// commit, by a sealer, has besides (Postgres).
type SealerStats interface {
	// SealerPending returns how many appends are not sealed yet.
	SealerPending(ctx context.Context) (int64, error)
}

var (
	tasksDesc     = prometheus.NewDesc(Tasks, "Tasks in the task list read model, by state (every tenant's; it lags the log by the projection's delay).", []string{"state"}, nil)
	queueDesc     = prometheus.NewDesc(QueueDepth, "Tasks queued, waiting for a worker.", nil, nil)
	queueAgeDesc  = prometheus.NewDesc(QueueOldestAge, "How long ago the task queued the longest ago was queued, in seconds; 0 when none is queued.", nil, nil)
	consumerDesc  = prometheus.NewDesc(FeedConsumerLag, "Events of the feed a consumer (relay, read model, webhook dispatch) has not handled yet, by consumer.", []string{"consumer"}, nil)
	sealerDesc    = prometheus.NewDesc(SealerPending, "Committed appends the sealer has not given feed positions yet.", nil, nil)
	storeStatDesc = []*prometheus.Desc{tasksDesc, queueDesc, queueAgeDesc, consumerDesc, sealerDesc}
)

// WatchStore adds the store's metrics (Tasks, QueueDepth, QueueOldestAge,
// FeedConsumerLag of the named consumers, and SealerPending when s is
// also a SealerStats), read from s at a scrape (at most one read every 5
// s, each bounded to 3 s). A read that fails leaves its metrics out of
// that scrape; a run of failures is logged to logger once (nil:
// slog.Default()) and counted as an outage of the store (call "metrics:
// read the store"). Call it once, before serving.
func (r *Registry) WatchStore(s StoreStats, logger *slog.Logger, consumers ...string) {
	r.reg.MustRegister(&storeCollector{s: s, consumers: consumers, now: time.Now,
		down: &backoff.Retry{Dependency: backoff.DependencyStore, What: "metrics: read the store", Meanwhile: "its metrics are left out of scrapes", Logger: logger}})
}

// storeCollector reads the store's metrics at a scrape, and keeps them
// for storeCacheFor.
type storeCollector struct {
	s         StoreStats
	consumers []string
	now       func() time.Time
	down      *backoff.Retry // the store's outage, logged once

	mu   sync.Mutex // held during a read: concurrent scrapes wait for it
	read time.Time  // when last was read
	last []prometheus.Metric
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range storeStatDesc {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.last == nil || now.Sub(c.read) >= storeCacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		c.last = c.collect(ctx, now)
		cancel()
		c.read = now
	}
	for _, m := range c.last {
		ch <- m
	}
}

// collect reads the store's metrics at now; what fails is left out, and
// noted as a failure of the store.
func (c *storeCollector) collect(ctx context.Context, now time.Time) []prometheus.Metric {
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	var errs []error
	failed := func(what string, err error) { errs = append(errs, fmt.Errorf("%s: %w", what, err)) }
	if counts, err := c.s.TaskViewsCount(ctx); err != nil {
		failed("tasks by state", err)
	} else {
		for state, n := range counts.ByState {
			gauge(tasksDesc, float64(n), string(state))
		}
		gauge(queueDesc, float64(counts.ByState[domain.StateQueued]))
		age := 0.0
		if !counts.OldestQueuedAt.IsZero() {
			age = max(now.Sub(counts.OldestQueuedAt).Seconds(), 0)
		}
		gauge(queueAgeDesc, age)
	}
	if len(c.consumers) > 0 {
		head, err := c.s.FeedHead(ctx)
		var next map[string]int64
		if err == nil {
			next, err = c.s.CheckpointList(ctx)
		}
		if err != nil {
			failed("feed consumers", err)
		} else {
			for _, name := range c.consumers {
				gauge(consumerDesc, float64(max(head-next[name], 0)), name)
			}
		}
	}
	if sealer, ok := c.s.(SealerStats); ok {
		if n, err := sealer.SealerPending(ctx); err != nil {
			failed("sealer", err)
		} else {
			gauge(sealerDesc, float64(n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.down.Note(ctx, err)
	} else {
		c.down.Succeeded()
	}
	return out
}
