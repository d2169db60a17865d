package metrics_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/metrics"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/projections"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// gauge gathers g and returns the value of the gauge name whose labels
// are labels (name, value, …), and whether there is one.
func gauge(t *testing.T, g prometheus.Gatherer, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// On each engine: the store's commit hook counts the commit of a task's
// creation and queuing, and a scrape reads the task queued (a minute ago),
// the consumers' lag and, on Postgres, the sealer's backlog. A store that
// fails leaves its metrics out and shows as an outage of the store.
func TestWatchStore(t *testing.T) {
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			reg := metrics.New()
			s := e.Open(t, eventstore.Options{ObserveCommitFunc: reg.ObserveCommit})
			queuedAt := time.Now().Add(-time.Minute)
			var events []domain.NewEvent
			for _, p := range []domain.Payload{&domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "watched", TimeoutS: 60}, &domain.TaskQueued{Attempt: 1}} {
				b, err := domain.MarshalPayload(p)
				if err != nil {
					t.Fatal(err)
				}
				events = append(events, domain.NewEvent{EventID: uuid.New(), Type: p.EventType(), Payload: b, OccurredAt: queuedAt})
			}
			if _, err := s.Append(t.Context(), eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "tenant-a"}, 0, events); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitFeed(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
			feed, err := s.ReadFeed(t.Context(), 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, feed); err != nil {
				t.Fatal(err)
			}
			stats, ok := s.(metrics.StoreStats)
			if !ok {
				t.Fatalf("the %s store is no metrics.StoreStats", e.Name)
			}
			reg.WatchStore(stats, nil, projections.TaskViewsName, "relay")

			g := reg.Gatherer()
			if c, err := metrics.ReadCounter(g, metrics.Commits); err != nil || c != 1 {
				t.Fatalf("%s: %v, %v; want the one commit", metrics.Commits, c, err)
			}
			if n, err := metrics.ReadCounter(g, metrics.EventsAppended); err != nil || n != 2 {
				t.Fatalf("%s: %v, %v; want 2", metrics.EventsAppended, n, err)
			}
			for _, c := range []struct {
				name   string
				labels []string
				want   float64
			}{
				{metrics.Tasks, []string{"state", "queued"}, 1},
				{metrics.QueueDepth, nil, 1},
				{metrics.FeedConsumerLag, []string{"consumer", projections.TaskViewsName}, 0},
				{metrics.FeedConsumerLag, []string{"consumer", "relay"}, 2}, // never ran
			} {
				if v, ok := gauge(t, g, c.name, c.labels...); !ok || v != c.want {
					t.Errorf("%s%v: %v (present: %v); want %v", c.name, c.labels, v, ok, c.want)
				}
			}
			if age, ok := gauge(t, g, metrics.QueueOldestAge); !ok || age < 60 || age > 3600 {
				t.Errorf("%s: %v (present: %v); the task was queued a minute ago", metrics.QueueOldestAge, age, ok)
			}
			if n, ok := gauge(t, g, metrics.SealerPending); ok != (e.Name == "postgres") || n < 0 {
				t.Errorf("%s: %v (present: %v) on %s", metrics.SealerPending, n, ok, e.Name)
			}

			// A store that fails: the scrape goes on without its metrics.
			_ = s.Close()
			down := metrics.New()
			down.WatchStore(stats, nil, projections.TaskViewsName)
			if _, ok := gauge(t, down.Gatherer(), metrics.QueueDepth); ok {
				t.Errorf("a closed store's %s is reported", metrics.QueueDepth)
			}
			if v, ok := gauge(t, down.Gatherer(), metrics.DependencyFailing, "dependency", "store", "call", "metrics: read the store"); !ok || v < 1 {
				t.Errorf("%s of the read: %v (present: %v); want the closed store failing", metrics.DependencyFailing, v, ok)
			}
		})
	}
}
