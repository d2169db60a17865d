package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
)

// The chaos suite: production processes (two serve, two workers) on a
// Postgres and a Redis of the test's own, which the test stops or kills
// under them and starts again. Each test has a deployment of its own, so
// that what one fault breaks does not show up as another's failure. They
// do not run in parallel: they measure recoveries to within a second,
// which a machine busy with other deployments would blur.

const (
	// chaosLeaseTTL is the workers' lease. It outlasts the Postgres
	// outages below (2-3 s) with the restart and the pools' reconnects: a
	// worker that cannot renew a lease stops the task one renew interval
	// before the lease expires, so that two attempts never run at once,
	// and under a shorter lease every such outage would end the attempt by
	// design.
	chaosLeaseTTL = 6 * time.Second
	// recoveryWithin is how soon after a dependency is back dispatch must
	// be back to normal: a quick task ending within quickWithin of its start.
	// The 5 s target itself is a figure of make bench (its recovery step,
	// on an otherwise idle machine): this bound, under the whole suite's
	// load, tells the recovery paths from their backstops (the watchdog
	// adopts a queued task whose work message was lost after 30 s).
	recoveryWithin = 15 * time.Second
	quickWithin    = time.Second
	// probeEvery is how often a quick task is started while waiting for
	// the recovery.
	probeEvery = 250 * time.Millisecond
	// quickTask is the probe: one mock step, no sandbox to set up.
	quickTask = `{"name":"probe","adapter":"mock","args":{"steps":1,"interval_ms":10},"timeout_s":30}`
	// requestTimeout bounds each request of the probes: an API that does
	// not answer within it during an outage fails the test.
	requestTimeout = 5 * time.Second
)

// chaosDeployment is a production deployment on servers the test owns.
type chaosDeployment struct {
	pg      *testpg.Server
	redis   *testredis.Server
	apis    []*proc
	workers []*proc
	token   string // a member's access token, which every API also gets from authorize
	prefix  string // of the Redis stream names
}

// startChaosDeployment starts Postgres, Redis, two serve processes and two
// workers of 16 slots each, on a plan that admits 100 tasks at once and
// an API whose rate limit the tests' polling stays far below, and
// registers a user.
func startChaosDeployment(t *testing.T) *chaosDeployment {
	t.Helper()
	d := &chaosDeployment{pg: testpg.StartOwned(t, testpg.CrashSafe), redis: testredis.StartOwned(t)}
	// The server is the test's own: its maintenance database serves.
	env := prodEnv(t, d.pg.AdminURL(), d.redis.URL(), "PLAN_TRIAL_CONCURRENCY=100", "PLAN_TRIAL_TASKS_PER_DAY=100000", "RATE_LIMIT_PER_MINUTE=1000000")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AXONTASK_REDIS_PREFIX="); ok {
			d.prefix = v
		}
	}
	for range 2 {
		d.apis = append(d.apis, startProc(t, env, "serve", "-port", "0"))
	}
	for _, id := range []string{"w1", "w2"} {
		d.workers = append(d.workers, startWorker(t, env, id, chaosLeaseTTL, "-concurrency", "16"))
	}
	d.token = register(t, d.apis[0].base, "chaos@example.com")
	for _, a := range d.apis {
		authorize(t, a.base, d.token)
	}
	return d
}

// unreadWork counts the tasks whose work messages in Redis no worker has
// read: those after the workers' group's last delivered id (the announcer
// and the relay each publish one per task.queued).
func (d *chaosDeployment) unreadWork(t *testing.T) int {
	t.Helper()
	opts, err := redis.ParseURL(d.redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer func() { _ = rdb.Close() }()
	stream := d.prefix + bus.TopicTasks
	groups, err := rdb.XInfoGroups(t.Context(), stream).Result()
	if err != nil {
		t.Fatalf("XINFO GROUPS %s: %v", stream, err)
	}
	for _, g := range groups {
		if g.Name == bus.WorkersGroup {
			entries, err := rdb.XRange(t.Context(), stream, "("+g.LastDeliveredID, "+").Result()
			if err != nil {
				t.Fatalf("XRANGE %s: %v", stream, err)
			}
			tasks := map[uuid.UUID]bool{}
			for _, e := range entries {
				m, err := redisstream.DefaultMarshallerUnmarshaller{}.Unmarshal(e.Values)
				if err != nil {
					t.Fatal(err)
				}
				w, err := bus.DecodeWork(m)
				if err != nil {
					t.Fatal(err)
				}
				tasks[w.TaskID] = true
			}
			return len(tasks)
		}
	}
	t.Fatalf("no group %s on %s", bus.WorkersGroup, stream)
	return 0
}

// api returns the URL of the i-th API process, round the list.
func (d *chaosDeployment) api(i int) string { return d.apis[i%len(d.apis)].base }

// named returns the deployment's processes by name.
func (d *chaosDeployment) named() map[string]*proc {
	m := map[string]*proc{}
	for i, p := range d.apis {
		m[fmt.Sprintf("serve %d", i+1)] = p
	}
	for i, p := range d.workers {
		m[fmt.Sprintf("worker w%d", i+1)] = p
	}
	return m
}

// request sends method to url with the credential authorize gave its host,
// bounded by requestTimeout, and returns the status and Retry-After, and
// the body decoded into out (when not nil and the status is 2xx).
func request(ctx context.Context, method, url string, out any) (status int, retryAfter string, err error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, "", fmt.Errorf("decode %s: %w", url, err)
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// taskState returns the state of task id as the API at base tells it; ""
// when it did not answer 200.
func taskState(ctx context.Context, base, id string) domain.TaskState {
	var task struct {
		State domain.TaskState `json:"state"`
	}
	if status, _, err := request(ctx, http.MethodGet, base+"/mcp/tasks/"+id+"/status", &task); err != nil || status != http.StatusOK {
		return ""
	}
	return task.State
}

// probeResult is how one quick task went.
type probeResult struct {
	ok   bool      // it succeeded within quickWithin of its start
	done time.Time // when it was seen to succeed
	what string    // otherwise, what went wrong
}

// quickRun starts a quick task on the API at base and waits at most
// quickWithin from its start for it to succeed.
func quickRun(ctx context.Context, base string) probeResult {
	start := time.Now()
	id, status, _, err := postTask(ctx, base, quickTask)
	if err != nil || status != http.StatusCreated {
		return probeResult{what: fmt.Sprintf("start_task answered %d %v", status, err)}
	}
	var state domain.TaskState
	testwait.Until(quickWithin-time.Since(start), func() bool {
		state = taskState(ctx, base, id)
		return state.Terminal()
	})
	if state != domain.StateSucceeded {
		return probeResult{what: fmt.Sprintf("%q after %v", state, time.Since(start).Round(time.Millisecond))}
	}
	return probeResult{ok: true, done: time.Now()}
}

// dispatchRecovery starts a quick task every probeEvery from now on,
// alternating between the APIs, until one succeeds within quickWithin of
// its start, and returns how long after back that was. It starts none
// after back+within and then reports false with what the probes saw.
func (d *chaosDeployment) dispatchRecovery(ctx context.Context, back time.Time, within time.Duration) (time.Duration, bool, []string) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // the probes still out are done with
	results := make(chan probeResult, 2*int(within/probeEvery)+2)
	var seen []string
	inFlight, launched := 0, 0
	next := time.Now()
	for {
		if now := time.Now(); now.Sub(back) < within && !now.Before(next) {
			base := d.api(launched)
			inFlight, launched, next = inFlight+1, launched+1, now.Add(probeEvery)
			wg.Go(func() { results <- quickRun(ctx, base) })
		}
		if inFlight == 0 && time.Since(back) >= within {
			return time.Since(back), false, seen
		}
		select {
		case r := <-results:
			inFlight--
			if r.ok {
				return r.done.Sub(back), true, seen
			}
			seen = append(seen, r.what)
		case <-time.After(time.Until(next)): // the next probe's turn
		}
	}
}

// measureRecovery asserts that dispatch is back to normal within
// recoveryWithin of back, when what came back.
func (d *chaosDeployment) measureRecovery(t *testing.T, what string, back time.Time) {
	t.Helper()
	took, ok, seen := d.dispatchRecovery(t.Context(), back, recoveryWithin)
	switch {
	case !ok:
		t.Errorf("no quick task succeeded within %v of its start in the %v after %s came back; the probes saw %v", quickWithin, recoveryWithin, what, seen)
	case took > recoveryWithin:
		t.Errorf("dispatch recovered %v after %s came back, want within %v; the probes before saw %v", took.Round(time.Millisecond), what, recoveryWithin, seen)
	default:
		t.Logf("dispatch recovered %v after %s came back (%d probes failed before)", took.Round(time.Millisecond), what, len(seen))
	}
}

// checkChain reads task id's stored events from the API at base and
// checks that their seqs run from 1 without a gap and their chain
// verifies; it returns them.
func checkChain(t *testing.T, base, id string) []domain.Event {
	t.Helper()
	events, _ := taskEvents(t, base, id)
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Errorf("task %s: stored event %d has seq %d", id, i, e.Seq)
			return events
		}
	}
	if err := integrity.Verify(events); err != nil {
		t.Errorf("task %s: the stored chain does not verify: %v", id, err)
	}
	return events
}

// stdout returns the task's output on stdout, in the order of its events.
func stdout(t *testing.T, events []domain.Event) string {
	t.Helper()
	var out strings.Builder
	for _, e := range events {
		if e.Type != domain.TaskOutputType {
			continue
		}
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if o := p.(*domain.TaskOutput); o.Stream == domain.Stdout {
			out.WriteString(o.Data)
		}
	}
	return out.String()
}

// numberedLines says how out differs from "line 1\n" to "line n\n", each
// once and in order: the first line out of place, or where it ends; ""
// when it does not.
func numberedLines(out string, n int) string {
	next := 1
	for line := range strings.Lines(out) {
		if line != fmt.Sprintf("line %d\n", next) {
			return fmt.Sprintf("%q came where line %d was due", line, next)
		}
		next++
	}
	if next <= n {
		return fmt.Sprintf("it ends after line %d", next-1)
	}
	return ""
}

// attempts counts the task.started events: the task's attempts that ran.
func attempts(events []domain.Event) int {
	n := 0
	for _, e := range events {
		if e.Type == domain.TaskStartedType {
			n++
		}
	}
	return n
}

// followTask streams task id from the API at base until its terminal
// event, reconnecting after the last event it got (Last-Event-ID) when
// the stream ends early, as a browser's EventSource would, until ctx ends.
// It calls onEvent with each event and returns them all and how often it
// reconnected.
func followTask(ctx context.Context, base, id string, onEvent func(domain.Event)) ([]domain.Event, int) {
	var got []domain.Event
	out := make(chan domain.Event)
	for reconnects := 0; ; reconnects++ {
		var after int64
		if len(got) > 0 {
			after = got[len(got)-1].Seq
		}
		ended := make(chan struct{})
		go func() { _ = sseFrom(ctx, base, id, after, out); close(ended) }()
		for streaming := true; streaming; {
			select {
			case e := <-out:
				got = append(got, e)
				onEvent(e)
			case <-ended:
				streaming = false
			}
		}
		if len(got) > 0 && got[len(got)-1].Type.Terminal() {
			return got, reconnects
		}
		select {
		case <-ctx.Done():
			return got, reconnects
		case <-time.After(100 * time.Millisecond): // an EventSource's retry delay
		}
	}
}

// Redis restarted empty under load: 40 tasks of about 2 s on 32 slots, 20
// of them followed live over SSE by 5 clients each; Redis is killed as soon as the first
// wave prints, while the work messages of 8 more tasks wait in its stream
// unread, 8 more are started while it is down, and it comes back 2 s later
// with nothing in it (no streams, no consumer groups). Every accepted task must succeed within 60 s of the
// fault with a chain that verifies, every SSE client must get every event
// once and in order, and dispatch must be back to normal soon after Redis
// (recoveryWithin).
func TestChaosRedisRestartedEmptyUnderLoad(t *testing.T) {
	d := startChaosDeployment(t)
	// followed tasks have perTask SSE clients each: 100 clients.
	const tasks, backlog, duringOutage, followed, perTask = 40, 8, 8, 20, 5
	const load = `{"name":"load","adapter":"shell","args":{"command":["sh","-c","for i in 1 2 3 4; do echo line $i; sleep 0.5; done"]},"timeout_s":120}`
	ids := make([]string, tasks)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, status, _, err := postTask(t.Context(), d.api(i), load)
			if err != nil || status != http.StatusCreated {
				t.Errorf("start task %d: %d %v", i, status, err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	ctx, cancel := context.WithCancel(t.Context()) // ended 60 s after the fault
	defer cancel()
	var printing atomic.Int32
	type follower struct {
		events     []domain.Event
		reconnects int
	}
	follows := make([]follower, followed*perTask)
	var followers sync.WaitGroup
	for c := range follows {
		id := ids[c/perTask]
		followers.Go(func() {
			first := true
			events, reconnects := followTask(ctx, d.api(c), id, func(e domain.Event) {
				if first && e.Type == domain.TaskOutputType {
					first = false
					printing.Add(1)
				}
			})
			follows[c] = follower{events, reconnects}
		})
	}
	testwait.For(t, "a followed task to print", func() bool { return printing.Load() >= 1 })

	// A backlog in Redis for the fault to lose: work messages no worker
	// has read. Each worker subscription reads up to three messages ahead
	// of its busy slot, so a real backlog would take over 4 x 32 tasks;
	// the workers are paused instead while quick tasks queue up. (Redis
	// still hands a message to each read that was blocked when they
	// paused, so it takes up to 32 more than the backlog.)
	for _, w := range d.workers {
		w.signal(t, syscall.SIGSTOP)
	}
	unread, started := 0, 0
	for ; unread < backlog && started < backlog+64; started++ {
		ids = append(ids, startTask(t, d.api(started), quickTask))
		unread = d.unreadWork(t)
	}
	fault := time.Now()
	d.redis.Kill()
	for _, w := range d.workers {
		w.signal(t, syscall.SIGCONT)
	}
	t.Logf("Redis killed at %s with the work messages of %d of %d quick tasks unread", fault.Format(time.TimeOnly+".000"), unread, started)
	if unread < backlog {
		t.Fatalf("the work messages of only %d tasks were unread in Redis at the fault, want %d", unread, backlog)
	}
	// A start needs Postgres only (the rate limiter lets requests through
	// without Redis): each is accepted, or refused with 503 and Retry-After.
	var mu sync.Mutex
	refused := 0
	for i := range duringOutage {
		wg.Go(func() {
			id, status, retryAfter, err := postTask(t.Context(), d.api(i), load)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && status == http.StatusCreated:
				ids = append(ids, id)
			case err == nil && status == http.StatusServiceUnavailable && retryAfter != "":
				refused++
			default:
				t.Errorf("start_task while Redis is down: %d (Retry-After %q) %v, want 201, or 503 with Retry-After", status, retryAfter, err)
			}
		})
	}
	wg.Wait()
	t.Logf("while Redis was down, %d starts were accepted (in %v) and %d refused", duringOutage-refused, time.Since(fault).Round(time.Millisecond), refused)
	time.Sleep(time.Until(fault.Add(2 * time.Second))) // the outage
	if err := d.redis.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	t.Logf("Redis back, empty, at %s", back.Format(time.TimeOnly+".000"))
	d.measureRecovery(t, "Redis", back)

	// Every accepted task ends, succeeded, within 60 s of the fault (the
	// issue's target) and within 22 s of Redis coming back (fault + 24 s):
	// before the watchdog's 30 s backstop for queued tasks could have run
	// the ones whose work messages went with Redis, so that only the
	// relay's recovery can meet it. Under -race on two busy cores the
	// tasks took 8 to 14 s to end after Redis came back, so 15 s failed
	// runs that recovered.
	deadline := fault.Add(60 * time.Second)
	if soon := back.Add(22 * time.Second); soon.Before(deadline) {
		deadline = soon
	}
	states := make([]domain.TaskState, len(ids))
	next := 0
	testwait.Until(time.Until(deadline), func() bool {
		for next < len(ids) {
			if states[next] = taskState(t.Context(), d.api(next), ids[next]); !states[next].Terminal() {
				return false
			}
			next++
		}
		return true
	})
	for i, s := range states[:next] {
		if s != domain.StateSucceeded {
			t.Errorf("task %d (%s) ended %s", i, ids[i], s)
		}
	}
	if next < len(ids) {
		t.Errorf("%d of %d accepted tasks had not ended 22 s after Redis came back; task %d (%s) is %q", len(ids)-next, len(ids), next, ids[next], states[next])
	} else {
		t.Logf("all %d accepted tasks had ended %v after Redis came back", len(ids), time.Since(back).Round(100*time.Millisecond))
	}
	stored := map[string][]domain.Event{}
	for i, id := range ids {
		stored[id] = checkChain(t, d.api(i), id)
	}

	// Every follower got every stored event, once, in order, to the end.
	time.AfterFunc(time.Until(deadline), cancel)
	followers.Wait()
	reconnected := 0
	for c, f := range follows {
		id := ids[c/perTask]
		reconnected += f.reconnects
		want := stored[id]
		for j, e := range f.events {
			if e.Seq != int64(j+1) {
				t.Errorf("SSE client of task %s got seq %d as its event %d: an event lost, repeated or out of order", id, e.Seq, j+1)
				break
			}
		}
		if len(f.events) != len(want) || (len(want) > 0 && f.events[len(f.events)-1].EventID != want[len(want)-1].EventID) {
			t.Errorf("SSE client of task %s got %d events, the store holds %d", id, len(f.events), len(want))
		}
		if n := len(f.events); n == 0 || !f.events[n-1].Type.Terminal() {
			t.Errorf("SSE client of task %s did not get to the terminal event (%d events, %d reconnects)", id, n, f.reconnects)
		} else if err := integrity.Verify(f.events); err != nil {
			t.Errorf("SSE client of task %s: the streamed chain does not verify: %v", id, err)
		}
	}
	t.Logf("the %d SSE clients reconnected %d times in all", len(follows), reconnected)
}

// answer is one answer the API gave while Postgres went away and came back.
type answer struct {
	what       string // the endpoint
	sent, got  time.Time
	status     int
	retryAfter string
	err        error
}

// apiWatch asks the APIs, every 100 ms, for a task's status and for
// /readyz, and every 300 ms starts a quick task, recording every answer.
type apiWatch struct {
	mu      sync.Mutex
	answers []answer
}

// Endpoints apiWatch asks.
const (
	watchStatus = "GET /mcp/tasks/{id}/status"
	watchStart  = "POST /mcp/start_task"
	watchReady  = "GET /readyz"
)

func (w *apiWatch) run(ctx context.Context, d *chaosDeployment, id string) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		for i := range d.apis {
			base := d.api(i)
			wg.Go(func() { w.ask(ctx, watchStatus, http.MethodGet, base+"/mcp/tasks/"+id+"/status") })
			wg.Go(func() { w.ask(ctx, watchReady, http.MethodGet, base+"/readyz") })
		}
		if n%3 == 0 {
			wg.Go(func() {
				sent := time.Now()
				_, status, retryAfter, err := postTask(ctx, d.api(n/3), quickTask)
				w.record(answer{watchStart, sent, time.Now(), status, retryAfter, err})
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *apiWatch) ask(ctx context.Context, what, method, url string) {
	sent := time.Now()
	status, retryAfter, err := request(ctx, method, url, nil)
	w.record(answer{what, sent, time.Now(), status, retryAfter, err})
}

func (w *apiWatch) record(a answer) {
	if errors.Is(a.err, context.Canceled) {
		return // the watch ended
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answers = append(w.answers, a)
}

// check asserts that the APIs answered only 2xx or 503, 503 with
// Retry-After where the store was needed, and 503 only (and at least once
// per endpoint) while Postgres was down, from down until up.
func (w *apiWatch) check(t *testing.T, down, up time.Time) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	during := map[string]int{}
	bad := map[string]int{}
	var samples []string
	for _, a := range w.answers {
		inOutage := !a.sent.Before(down) && !a.got.After(up)
		if inOutage {
			during[a.what]++
		}
		var problem string
		switch {
		case a.err != nil:
			problem = "no answer: " + a.err.Error()
		case a.status/100 != 2 && a.status != http.StatusServiceUnavailable:
			problem = fmt.Sprintf("%d", a.status)
		case inOutage && a.status != http.StatusServiceUnavailable:
			problem = fmt.Sprintf("%d while Postgres was down", a.status)
		case a.status == http.StatusServiceUnavailable && a.what != watchReady && a.retryAfter == "":
			problem = "503 without Retry-After"
		}
		if problem != "" {
			key := a.what + ": " + problem
			if bad[key] == 0 {
				samples = append(samples, key)
			}
			bad[key]++
		}
	}
	for _, what := range []string{watchStatus, watchStart, watchReady} {
		if during[what] == 0 {
			t.Errorf("%s: no answer fell within the outage, so none shows how the API behaves without Postgres", what)
		}
	}
	for _, key := range samples {
		t.Errorf("%s (%d times)", key, bad[key])
	}
	t.Logf("%d answers, %v of them within the outage", len(w.answers), during)
}

// Postgres restarted (an immediate shutdown, 2 s down) while a worker
// streams a task's output. The task succeeds with every line once, in
// order; while Postgres is down the API answers 503 with Retry-After,
// never 500, and /readyz 503, then 200; dispatch is back to normal soon
// after Postgres (recoveryWithin).
func TestChaosPostgresRestartedWhileStreaming(t *testing.T) {
	d := startChaosDeployment(t)
	const lines = 50
	id := startTask(t, d.api(0), fmt.Sprintf(`{"name":"lines","adapter":"shell","args":{"command":["sh","-c","for i in $(seq 1 %d); do echo line $i; sleep 0.1; done"]},"timeout_s":120}`, lines))
	testwait.For(t, "the task to have printed 15 lines", func() bool {
		events, _ := taskEvents(t, d.api(0), id)
		return strings.Contains(stdout(t, events), "line 15\n")
	})

	watchCtx, stopWatch := context.WithCancel(t.Context())
	var watch apiWatch
	watching := make(chan struct{})
	go func() { watch.run(watchCtx, d, id); close(watching) }()
	d.pg.Stop()
	down := time.Now()
	t.Logf("Postgres stopped (immediate) at %s", down.Format(time.TimeOnly+".000"))
	time.Sleep(2 * time.Second) // the outage
	up := time.Now()
	if err := d.pg.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	t.Logf("Postgres accepts connections again at %s", back.Format(time.TimeOnly+".000"))
	ready := testwait.Until(recoveryWithin, func() bool {
		for i := range d.apis {
			if status, _, err := request(t.Context(), http.MethodGet, d.api(i)+"/readyz", nil); err != nil || status != http.StatusOK {
				return false
			}
		}
		return true
	})
	if !ready {
		t.Errorf("/readyz does not answer 200 on every API %v after Postgres came back", recoveryWithin)
	}
	d.measureRecovery(t, "Postgres", back)
	stopWatch()
	<-watching
	watch.check(t, down, up)

	var state domain.TaskState
	testwait.Until(30*time.Second, func() bool {
		state = taskState(t.Context(), d.api(1), id)
		return state.Terminal()
	})
	events := checkChain(t, d.api(1), id)
	if problem := numberedLines(stdout(t, events), lines); problem != "" {
		t.Errorf("the stored output is not lines 1 to %d, each once: %s (%d attempts ran)", lines, problem, attempts(events))
	}
	if state != domain.StateSucceeded {
		t.Errorf("the task is %q 30 s after the outage, want succeeded: the outage was shorter than its lease; its last event is %s", state, events[len(events)-1].Type)
	}
}

// A cancel issued while Redis is down (the cancel request is a Postgres
// append; the bus only hurries it) stops the task within 10 s, whether the
// worker learns of it from its lease checks or from the bus once Redis is
// back, empty, 3 s later. The task prints once and then sleeps: one that
// goes on printing would learn of the cancel from its next append's
// conflict, and would not test either way.
func TestChaosCancelWhileRedisDown(t *testing.T) {
	d := startChaosDeployment(t)
	id := startTask(t, d.api(0), `{"name":"sleeper","adapter":"shell","args":{"command":["sh","-c","echo asleep; sleep 60"]},"timeout_s":120}`)
	testwait.For(t, "the task to print", func() bool {
		events, _ := taskEvents(t, d.api(0), id)
		return strings.Contains(stdout(t, events), "asleep\n")
	})
	d.redis.Kill()
	canceled := time.Now()
	if s := call(t, http.MethodPost, d.api(1)+"/mcp/tasks/"+id+"/cancel", d.token, "", nil); s != http.StatusOK {
		t.Errorf("cancel while Redis is down answered %d, want 200: the cancel request is a Postgres append", s)
	}
	time.Sleep(3 * time.Second) // the outage
	if err := d.redis.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	var state domain.TaskState
	ended := testwait.Until(10*time.Second-time.Since(canceled), func() bool {
		state = taskState(t.Context(), d.api(0), id)
		return state.Terminal()
	})
	switch {
	case !ended:
		t.Fatalf("the task is still %q 10 s after its cancel", state)
	case state != domain.StateCanceled:
		t.Errorf("the task ended %s, want canceled", state)
	}
	// How soon it stopped, by the log's clock (the poll above began only
	// once Redis was back).
	events := checkChain(t, d.api(0), id)
	var requested time.Time
	for _, e := range events {
		if e.Type == domain.TaskCancelRequestedType && requested.IsZero() {
			requested = e.OccurredAt
		}
	}
	t.Logf("the task ended %v after its cancel request was stored", events[len(events)-1].OccurredAt.Sub(requested).Round(time.Millisecond))
}

// maxWarnings bounds the WARN and ERROR lines one process may log over a
// 3 s outage of one dependency and its recovery. A serve process has about
// eight parts that use Postgres or Redis on their own (the SSE hub's
// subscription, the relay, projector and retention elections, the API
// key usage writer, the announcer of appends, the rate limiter, the HTTP
// server), a worker about six (its pool's work subscription, its control
// subscription, the watchdog, the lease renewals, the output flusher, the
// announcer); one line when a part loses its dependency and one when it
// has it back stays within 20. A part that logs each retry (every 100 to
// 500 ms) or each item (each append, each slot, each task) goes past it.
const maxWarnings = 20

// logLevel matches the level of a log line (slog's text handler).
var logLevel = regexp.MustCompile(`\blevel=(WARN|ERROR)\b`)

// warning reports whether a log line is a warning or an error: at level
// WARN or ERROR, or written without slog by a library (go-redis's pool
// logs its failed dials so), which only does that to report a failure.
func warning(line string) bool {
	return logLevel.MatchString(line) || !strings.HasPrefix(line, "time=")
}

// logMsg matches the message of a log line.
var logMsg = regexp.MustCompile(`\bmsg=("(?:[^"\\]|\\.)*"|\S+)`)

// checkLogStorm asserts that no process logged more than maxWarnings WARN
// and ERROR lines after marks (a length of each process's log), and shows
// the noisiest messages of one that did.
func checkLogStorm(t *testing.T, outage string, procs map[string]*proc, marks map[string]int) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(procs)) {
		var lines []string
		for line := range strings.Lines(procs[name].logs.String()[marks[name]:]) {
			if line = strings.TrimSpace(line); line != "" && warning(line) {
				lines = append(lines, line)
			}
		}
		if len(lines) <= maxWarnings {
			t.Logf("%s outage: %s logged %d warnings and errors", outage, name, len(lines))
			continue
		}
		count := map[string]int{}
		sample := map[string]string{}
		for _, l := range lines {
			key := l
			if m := logMsg.FindStringSubmatch(l); m != nil {
				key = logLevel.FindString(l) + " " + m[1]
			} else if i := strings.Index(l, ": "); i > 0 {
				key = l[:i] // a library's prefix
			}
			if count[key]++; count[key] == 1 {
				sample[key] = l
			}
		}
		keys := make([]string, 0, len(count))
		for k := range count {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return count[b] - count[a] })
		var top strings.Builder
		for _, k := range keys[:min(len(keys), 6)] {
			fmt.Fprintf(&top, "\n  %4d × %s\n         e.g. %s", count[k], k, sample[k])
		}
		t.Errorf("%s outage: %s logged %d warnings and errors, want at most %d; the noisiest:%s", outage, name, len(lines), maxWarnings, top.String())
	}
}

// logMarks returns the length of each process's log now.
func logMarks(procs map[string]*proc) map[string]int {
	marks := map[string]int{}
	for n, p := range procs {
		marks[n] = p.logs.Len()
	}
	return marks
}

// A 3 s outage of Postgres, then one of Redis, under a deployment running
// one task that prints every 200 ms: no process logs a storm of warnings
// and errors from the fault until dispatch is back (or the
// recoveryWithin it has for that).
func TestChaosLogsWithoutStorms(t *testing.T) {
	d := startChaosDeployment(t)
	id := startTask(t, d.api(0), `{"name":"ticks","adapter":"shell","args":{"command":["sh","-c","for i in $(seq 1 200); do echo tick $i; sleep 0.2; done"]},"timeout_s":120}`)
	testwait.For(t, "the task to print", func() bool {
		events, _ := taskEvents(t, d.api(0), id)
		return strings.Contains(stdout(t, events), "tick 1\n")
	})
	procs := d.named()
	outages := []struct {
		name        string
		stop, start func()
	}{
		{"Postgres", d.pg.Stop, func() {
			if err := d.pg.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"Redis", d.redis.Kill, func() {
			if err := d.redis.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, o := range outages {
		marks := logMarks(procs)
		o.stop()
		time.Sleep(3 * time.Second) // the outage
		o.start()
		took, ok, _ := d.dispatchRecovery(t.Context(), time.Now(), recoveryWithin)
		t.Logf("%s outage: dispatch recovered: %v, after %v", o.name, ok, took.Round(time.Millisecond))
		checkLogStorm(t, o.name, procs, marks)
	}
}
