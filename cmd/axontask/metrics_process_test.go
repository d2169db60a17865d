package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/metrics"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
)

// scrape reads GET /metrics of the server at base as Prometheus does (no
// credential) and parses it.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", base, resp.Status)
	}
	g, err := metrics.ParseText(resp.Body)
	if err != nil {
		t.Fatalf("%s/metrics: %v", base, err)
	}
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	mfs := make(map[string]*dto.MetricFamily, len(families))
	for _, mf := range families {
		mfs[mf.GetName()] = mf
	}
	return mfs
}

// series returns the metric of family name whose labels are labels
// (name, value, …); nil when there is none.
func series(mfs map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
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
		return m
	}
	return nil
}

// value is the value of a gauge or counter series (series); -1 when
// there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := series(mfs, name, labels...)
	switch {
	case m == nil:
		return -1
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	return -1
}

// histogramCount is the count of a histogram without labels; -1 when
// there is none.
func histogramCount(mfs map[string]*dto.MetricFamily, name string) float64 {
	m := series(mfs, name)
	if m == nil || m.GetHistogram() == nil {
		return -1
	}
	return float64(m.GetHistogram().GetSampleCount())
}

// checkDispatches fails the test unless the dispatch latency histogram
// counts n dispatches, each of a plausible time: after its task was due,
// and within the 30 s a test waits at most.
func checkDispatches(t *testing.T, mfs map[string]*dto.MetricFamily, who string, n int) {
	t.Helper()
	m := series(mfs, metrics.DispatchLatency)
	if m == nil || m.GetHistogram() == nil {
		t.Errorf("%s reports no %s", who, metrics.DispatchLatency)
		return
	}
	h := m.GetHistogram()
	if h.GetSampleCount() != uint64(n) || h.GetSampleSum() <= 0 || h.GetSampleSum() > float64(n)*30 {
		t.Errorf("%s's %s: %d dispatches taking %v s in all; want %d claims, each after its task was due", who, metrics.DispatchLatency, h.GetSampleCount(), h.GetSampleSum(), n)
	}
}

// waitMetric scrapes base until ok holds of what it read, and fails the
// test with what it last read after 30 s.
func waitMetric(t *testing.T, base, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mfs := scrape(t, base)
		if ok(mfs) {
			return mfs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openStream opens an SSE stream of the server at base (the tests'
// client adds the credential) and returns once its first line has come;
// the stream ends with the returned function.
func openStream(t *testing.T, url string) (closeStream func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed by the function returned, when the test ends the stream
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		_ = resp.Body.Close()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return func() { cancel(); _ = resp.Body.Close() }
}

// A dev process at work shows in its /metrics: tasks by state and the
// queue, one dispatch per claim, commits and events, SSE streams while
// they are open, rate-limit refusals, webhook deliveries and the feed
// consumers' lag.
func TestDevMetrics(t *testing.T) {
	t.Parallel()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(recv.Close)
	dev := launchDev(t, t.TempDir(), processLogs(t), []string{"LOG_LEVEL=debug", "AUTH_RATE_LIMIT_PER_MINUTE=1",
		"WEBHOOK_ALLOWED_HOSTS=127.0.0.1", "WEBHOOK_ALLOW_HTTP=true"})
	base := dev.base
	authorize(t, base, dev.key)

	before := scrape(t, base)
	if c := value(before, metrics.Commits); c <= 0 {
		t.Fatalf("%s before any task: %v; dev's own credentials were committed", metrics.Commits, c)
	}
	if n := histogramCount(before, metrics.DispatchLatency); n != 0 {
		t.Fatalf("%s before any task: %v", metrics.DispatchLatency, n)
	}
	if s := call(t, "POST", base+"/v1/webhooks", dev.key, `{"url":"`+recv.URL+`/hook","events":["task.*"]}`, nil); s != http.StatusCreated {
		t.Fatalf("POST /v1/webhooks: %d", s)
	}

	const done = 3
	for range done {
		if _, last := runTask(t, base, domain.AdapterMock, map[string]any{"steps": 1}); last.Type != domain.TaskSucceededType {
			t.Fatalf("a mock task ended with %s", last.Type)
		}
	}
	// A task that runs for minutes, streamed: the stream counts while it
	// is open (parked, once caught up) and no longer once the client left.
	long := startTask(t, base, `{"name":"long","adapter":"mock","args":{"steps":2,"interval_ms":60000},"timeout_s":300}`)
	stream := openStream(t, base+"/mcp/tasks/"+long+"/stream")
	feed := openStream(t, base+"/v1/events")
	waitMetric(t, base, "open streams counted", func(m map[string]*dto.MetricFamily) bool {
		return value(m, metrics.SSEStreams, "kind", "task") == 1 && value(m, metrics.SSEStreams, "kind", "tenant") == 1
	})
	stream()
	feed()
	waitMetric(t, base, "closed streams no longer counted", func(m map[string]*dto.MetricFamily) bool {
		return value(m, metrics.SSEStreams, "kind", "task") == 0 && value(m, metrics.SSEStreams, "kind", "tenant") == 0
	})

	// The auth limit is 1 a minute: the second login is refused.
	for range 2 {
		call(t, "POST", base+"/v1/auth/login", "", `{"email":"nobody@example.com","password":"wrong password"}`, nil)
	}

	// The read model and the webhooks follow the log: wait for them.
	m := waitMetric(t, base, "the task list and the webhooks caught up", func(m map[string]*dto.MetricFamily) bool {
		return value(m, metrics.Tasks, "state", "succeeded") == done && value(m, metrics.Tasks, "state", "running") == 1 &&
			value(m, metrics.WebhookAttempts, "outcome", "succeeded") >= done*4
	})
	// One dispatch observed per claim: the three done and the long one.
	checkDispatches(t, m, "dev", done+1)
	commits, events := value(m, metrics.Commits), value(m, metrics.EventsAppended)
	if commits <= value(before, metrics.Commits) || events < commits {
		t.Errorf("%s %v (%v before the tasks), %s %v: want more commits, and at least an event each", metrics.Commits, commits, value(before, metrics.Commits), metrics.EventsAppended, events)
	}
	if n := histogramCount(m, metrics.CommitAppends); n != commits {
		t.Errorf("%s counts %v commits, %s %v", metrics.CommitAppends, n, metrics.Commits, commits)
	}
	if n := histogramCount(m, metrics.WebhookDeliveryLatency); n < done*4 {
		t.Errorf("%s counts %v deliveries; want one per successful attempt, at least %d", metrics.WebhookDeliveryLatency, n, done*4)
	}
	if v := value(m, metrics.RateLimited, "limit", "auth"); v < 1 {
		t.Errorf("%s{limit=auth}: %v after a login past the limit", metrics.RateLimited, v)
	}
	for name, want := range map[string]float64{metrics.QueueDepth: 0, metrics.QueueOldestAge: 0} {
		if v := value(m, name); v != want {
			t.Errorf("%s: %v; want %v with no task queued", name, v, want)
		}
	}
	for _, consumer := range []string{"task_views", "usage_counters", "webhook_dispatch"} {
		if v := value(m, metrics.FeedConsumerLag, "consumer", consumer); v < 0 {
			t.Errorf("%s{consumer=%s}: none", metrics.FeedConsumerLag, consumer)
		}
	}
	if s := series(m, metrics.SealerPending); s != nil {
		t.Errorf("dev (SQLite, no sealer) reports %s", metrics.SealerPending)
	}
}

// workerMetricsURL waits for the line where worker w logs the address of
// its /metrics, and returns the URL it is under.
func workerMetricsURL(t *testing.T, w *proc) string {
	t.Helper()
	re := regexp.MustCompile(`url=(http://[^ ]+)/metrics`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(w.logs.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker never logged its metrics address")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Production processes on Postgres and Redis, each scraped on its own
// metrics address: the worker observes one dispatch per task it claimed
// and counts its commits; serve reports tasks by state, the sealer's
// backlog and the relay's lag.
func TestProductionMetrics(t *testing.T) {
	t.Parallel()
	env := prodEnv(t, testpg.NewDatabase(t, testpg.Fast), testredis.URL(t))
	api := startProc(t, env, "serve", "-port", "0", "-metrics-addr", "127.0.0.1:0")
	w := startWorker(t, env, "w1", 30*time.Second, "-metrics-addr", "127.0.0.1:0")
	workerBase := workerMetricsURL(t, w)
	authorize(t, api.base, register(t, api.base, "metrics@example.com"))
	const tasks = 3
	for range tasks {
		if _, last := runTask(t, api.base, domain.AdapterMock, map[string]any{"steps": 1}); last.Type != domain.TaskSucceededType {
			t.Fatalf("a mock task ended with %s", last.Type)
		}
	}

	wm := scrape(t, workerBase)
	checkDispatches(t, wm, "the worker", tasks)
	// Each claim and each end is a commit of the worker's at least.
	if c := value(wm, metrics.Commits); c < 2*tasks {
		t.Errorf("the worker's %s: %v after %d tasks", metrics.Commits, c, tasks)
	}

	am := waitMetric(t, api.metrics, "serve's task list and relay caught up", func(m map[string]*dto.MetricFamily) bool {
		return value(m, metrics.Tasks, "state", "succeeded") == tasks && value(m, metrics.FeedConsumerLag, "consumer", "relay") == 0
	})
	if v := value(am, metrics.SealerPending); v < 0 {
		t.Errorf("serve reports no %s", metrics.SealerPending)
	}
	if c := value(am, metrics.Commits); c < tasks {
		t.Errorf("serve's %s: %v after %d starts through it", metrics.Commits, c, tasks)
	}
	if n := histogramCount(am, metrics.DispatchLatency); n != 0 {
		t.Errorf("serve, which claims nothing, counts %v dispatches", n)
	}
}
