package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testdocker"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.StopAll()
	testredis.Stop()
	testdocker.Stop()
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the axontask binary once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "axontask-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "axontask")
		out, err := exec.CommandContext(context.Background(), "go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running axontask process.
type proc struct {
	cmd     *exec.Cmd
	base    string     // for serve: its URL
	metrics string     // for serve -metrics-addr: the URL its /metrics is under
	logs    syncBuffer // its log (stderr), also sent to processLogs
}

// startProc starts axontask with args and env; for serve it waits for the
// listening line (and the metrics line when args ask for -metrics-addr).
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), binary(t), args...)
	cmd.Env = append(append(os.Environ(), "LOG_LEVEL=debug"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd}
	cmd.Stderr = io.MultiWriter(processLogs(t), &p.logs)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if args[0] == "serve" {
		wantMetrics := slices.Contains(args, "-metrics-addr")
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if rest, ok := strings.CutPrefix(line, "listening:"); ok {
				p.base = strings.TrimSpace(rest)
			}
			if rest, ok := strings.CutPrefix(line, "metrics:"); ok {
				p.metrics = strings.TrimSuffix(strings.TrimSpace(rest), "/metrics")
			}
			if p.base != "" && (!wantMetrics || p.metrics != "") {
				break
			}
		}
		if p.base == "" || (wantMetrics && p.metrics == "") {
			t.Fatal("serve never printed its URLs")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p
}

// prodEnv is the environment of production processes on the database at
// databaseURL and the Redis at redisURL, under a Redis key prefix of the
// test's own, with extra (NAME=value) after it.
func prodEnv(t *testing.T, databaseURL, redisURL string, extra ...string) []string {
	t.Helper()
	return append([]string{
		"DATABASE_URL=" + databaseURL,
		"REDIS_URL=" + redisURL,
		"AXONTASK_REDIS_PREFIX=" + testredis.Prefix(t),
		"JWT_SECRET=" + strings.Repeat("s", 32),
		"METRICS_TOKEN=" + testMetricsToken,
	}, extra...)
}

// startWorker starts a worker named id whose leases last leaseTTL, renewed
// every 500 ms and swept every 300 ms, so that a test sees a lost lease
// within a few seconds; flags are added.
func startWorker(t *testing.T, env []string, id string, leaseTTL time.Duration, flags ...string) *proc {
	t.Helper()
	args := []string{"worker", "-worker-id", id, "-lease-ttl", leaseTTL.String(), "-renew-interval", "500ms", "-watchdog-interval", "300ms"}
	return startProc(t, env, append(args, flags...)...)
}

// postTask sends start_task with body to the API at base (with the
// credential authorize gave it) and returns the new task's id, the status
// and the Retry-After header; an error only when no answer came.
func postTask(ctx context.Context, base, body string) (id string, status int, retryAfter string, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp/start_task", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var started struct {
		TaskID string `json:"task_id"`
	}
	if resp.StatusCode == http.StatusCreated {
		if err := json.NewDecoder(resp.Body).Decode(&started); err != nil {
			return "", resp.StatusCode, "", fmt.Errorf("decode start_task's answer: %w", err)
		}
	}
	return started.TaskID, resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// startTask starts a task of body on the API at base and returns its id;
// anything but 201 fails t.
func startTask(t *testing.T, base, body string) string {
	t.Helper()
	id, status, _, err := postTask(t.Context(), base, body)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("start_task: %d %v", status, err)
	}
	return id
}

func (p *proc) kill9(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	var resp *http.Response
	// Tests poll: a 429 is waited out as its Retry-After says, as a
	// client should, for up to testwait.Timeout.
	for deadline := time.Now().Add(testwait.Timeout); ; {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		var err error
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			break
		}
		_ = resp.Body.Close()
		wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || wait < 1 {
			wait = 1
		}
		time.Sleep(min(time.Duration(wait)*time.Second, time.Until(deadline)))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

type eventsPage struct {
	Events []json.RawMessage `json:"events"`
	Ended  bool              `json:"ended"`
}

func taskEvents(t *testing.T, base, id string) ([]domain.Event, bool) {
	t.Helper()
	var page eventsPage
	getJSON(t, base+"/v1/tasks/"+id+"/events?since_seq=0&limit=1000", &page)
	out := make([]domain.Event, len(page.Events))
	for i, raw := range page.Events {
		if err := out[i].UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
	}
	return out, page.Ended
}

// sseFrom streams a task from base after seq, sending each event on out,
// until the stream ends or the connection breaks.
func sseFrom(ctx context.Context, base, id string, after int64, out chan<- domain.Event) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/mcp/tasks/"+id+"/stream", nil)
	req.Header.Set("Last-Event-ID", strconv.FormatInt(after, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var e domain.Event
			if err := e.UnmarshalJSON([]byte(data)); err != nil {
				return err
			}
			out <- e
		}
	}
	return sc.Err()
}

// Production mode as separate processes on Postgres and Redis: two API
// processes, two workers. kill -9 the worker running a task: the watchdog
// re-queues it and the other worker finishes it. kill -9 the API process a
// client streams from: the client resumes on the other without loss.
func TestProductionProcessesSurviveKill9(t *testing.T) {
	t.Parallel()
	env := prodEnv(t, testpg.NewDatabase(t, testpg.Fast), testredis.URL(t), "AUTH_RATE_LIMIT_PER_MINUTE=5", "PLAN_TRIAL_CONCURRENCY=3")
	apiA := startProc(t, env, "serve", "-port", "0")
	apiB := startProc(t, env, "serve", "-port", "0", "-metrics-addr", "127.0.0.1:0")
	workers := map[string]*proc{}
	for _, id := range []string{"w1", "w2"} {
		workers[id] = startWorker(t, env, id, 2*time.Second)
	}
	token := register(t, apiA.base, "ops@example.com")
	if n := commandCount(t, apiA.base, "Register", "success"); n != 1 {
		t.Fatalf("API A's /metrics counts %v successful Register after one over HTTP", n)
	}
	authLimitAcrossProcesses(t, apiA.base, apiB.base)
	authorize(t, apiA.base, token)
	authorize(t, apiB.base, token)
	revokeAcrossProcesses(t, apiA.base, apiB.base, token)
	concurrencyAcrossProcesses(t, apiA.base, apiB.base, token)
	// API B serves its metrics on their own address only.
	if n := commandCount(t, apiB.metrics, "StartTask", "success"); n < 1 {
		t.Fatalf("API B's -metrics-addr counts %v successful StartTask after starts through it", n)
	}
	// API A serves them on its API address behind METRICS_TOKEN only.
	if s := call(t, "GET", apiA.base+"/metrics", "not-the-token", "", nil); s != http.StatusUnauthorized {
		t.Fatalf("GET /metrics on API A with another token: %d, want 401", s)
	}
	if s := call(t, "GET", apiB.base+"/metrics", "", "", nil); s != http.StatusNotFound {
		t.Fatalf("GET /metrics on API B's API address: %d, want 404 (it has -metrics-addr)", s)
	}
	streamLines(t, apiB.base, 10000)

	id := startTask(t, apiA.base, `{"name":"ticks","adapter":"shell","args":{"command":["sh","-c","for i in $(seq 1 30); do echo tick $i; sleep 0.1; done"]},"timeout_s":120}`)

	// A client streams from API A.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seen := make(chan domain.Event, 10000)
	streamA := make(chan error, 1)
	go func() { streamA <- sseFrom(ctx, apiA.base, id, 0, seen) }()

	// Wait for the first attempt to run and print, then kill its worker.
	var holder string
	deadline := time.Now().Add(60 * time.Second)
	for holder == "" && time.Now().Before(deadline) {
		events, _ := taskEvents(t, apiB.base, id)
		for _, e := range events {
			if e.Type == domain.TaskOutputType && holder == "" {
				for _, s := range events {
					if s.Type == domain.TaskStartedType {
						p, _ := domain.Decode(s.Type, s.Payload)
						holder = p.(*domain.TaskStarted).WorkerID
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if holder == "" {
		t.Fatal("the task never produced output")
	}
	workers[holder].kill9(t)

	// Kill API A under the client; it resumes on API B.
	var got []domain.Event
	collect := func(until func() bool, timeout time.Duration) {
		end := time.After(timeout)
		for !until() {
			select {
			case e := <-seen:
				got = append(got, e)
			case <-end:
				return
			}
		}
	}
	collect(func() bool { return len(got) >= 4 }, 30*time.Second)
	apiA.kill9(t)
	if err := <-streamA; err == nil {
		t.Log("the stream from API A ended cleanly before the kill")
	}
	collect(func() bool { return false }, 200*time.Millisecond) // drain what A delivered
	streamB := make(chan error, 1)
	go func() { streamB <- sseFrom(ctx, apiB.base, id, got[len(got)-1].Seq, seen) }()
	terminal := func() bool { return len(got) > 0 && got[len(got)-1].Type.Terminal() }
	collect(terminal, 90*time.Second)
	if !terminal() {
		t.Fatalf("the stream did not reach the end; last %v", got[len(got)-1].Type)
	}

	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("client saw seq %d at index %d: lost or repeated events across the API kill", e.Seq, i)
		}
	}
	if err := integrity.Verify(got); err != nil {
		t.Fatalf("the streamed chain does not verify: %v", err)
	}
	var types []domain.EventType
	startedBy := map[string]bool{}
	for _, e := range got {
		types = append(types, e.Type)
		if e.Type == domain.TaskStartedType {
			p, _ := domain.Decode(e.Type, e.Payload)
			startedBy[p.(*domain.TaskStarted).WorkerID] = true
		}
	}
	log := fmt.Sprint(types)
	if !strings.Contains(log, string(domain.TaskLeaseLostType)) || len(startedBy) != 2 || got[len(got)-1].Type != domain.TaskSucceededType {
		t.Fatalf("want task.lease_lost, a second attempt on the other worker, and success; got %s (started by %v)", log, startedBy)
	}
}

// revokeAcrossProcesses creates an API key on the process at a, uses it on
// b, revokes it on a, and checks that b refuses it within a second.
func revokeAcrossProcesses(t *testing.T, a, b, token string) {
	t.Helper()
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if s := call(t, "POST", a+"/v1/api-keys", token, `{"name":"agent","scopes":["tasks:read"]}`, &key); s != http.StatusCreated {
		t.Fatalf("create key: %d", s)
	}
	if s := call(t, "GET", b+"/v1/tasks", key.Key, "", nil); s != http.StatusOK {
		t.Fatalf("the key on the other process: %d", s)
	}
	if s := call(t, "DELETE", a+"/v1/api-keys/"+key.ID, token, "", nil); s != http.StatusNoContent {
		t.Fatalf("revoke: %d", s)
	}
	revokedAt := time.Now()
	for call(t, "GET", b+"/v1/tasks", key.Key, "", nil) != http.StatusUnauthorized {
		if time.Since(revokedAt) > time.Second {
			t.Fatal("the other process still accepts the key a second after its revocation")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// authLimitAcrossProcesses sends 10 sign-ins alternately to the processes
// at a and b, whose /v1/auth limit is 5 a minute per address in one Redis,
// one of which the registration used: 4 or 5 go through, the rest answer
// 429 with Retry-After. Whether the registration's one has come back (after
// 12 s) depends on how long the processes took to get here, so either
// count passes; limits kept apart would let 9 through.
func authLimitAcrossProcesses(t *testing.T, a, b string) {
	t.Helper()
	passed := 0
	for i := range 10 {
		base := a
		if i%2 == 1 {
			base = b
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/auth/login",
			strings.NewReader(`{"email":"ops@example.com","password":"wrong password"}`))
		resp, err := (&http.Client{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			passed++
		case http.StatusTooManyRequests:
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("login: %d", resp.StatusCode)
		}
	}
	if passed < 4 || passed > 5 {
		t.Fatalf("%d sign-ins went through two processes sharing a limit of 5 a minute; want 4 or 5", passed)
	}
}

// concurrencyAcrossProcesses starts 50 tasks at once through the two API
// processes for a tenant whose plan runs 3 at once: all of them run, never
// more than 3 at a time, and those held back say why.
func concurrencyAcrossProcesses(t *testing.T, a, b, token string) {
	t.Helper()
	ids := make([]string, 50)
	var wg sync.WaitGroup
	for i := range ids {
		base := a
		if i%2 == 1 {
			base = b
		}
		wg.Go(func() {
			var started struct {
				TaskID string `json:"task_id"`
			}
			body := `{"name":"burst","adapter":"mock","args":{"steps":2,"interval_ms":30}}`
			if s := call(t, "POST", base+"/mcp/start_task", token, body, &started); s != http.StatusCreated {
				t.Errorf("start %d: %d", i, s)
			}
			ids[i] = started.TaskID
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	waited := 0
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		var events []domain.Event
		for ended := false; !ended; {
			if time.Now().After(deadline) {
				t.Fatalf("task %s did not end within 60 s", id)
			}
			events, ended = taskEvents(t, a, id)
			if !ended {
				time.Sleep(50 * time.Millisecond)
			}
		}
		for _, e := range events {
			switch {
			case e.Type == domain.TaskStartedType:
				edges = append(edges, edge{e.OccurredAt, +1})
			case e.Type.Terminal():
				if e.Type != domain.TaskSucceededType {
					t.Fatalf("task %s ended with %s", id, e.Type)
				}
				edges = append(edges, edge{e.OccurredAt, -1})
			case e.Type == domain.TaskWaitingType:
				waited++
			}
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	running, most := 0, 0
	for _, e := range edges {
		running += e.delta
		most = max(most, running)
	}
	if most > 3 || waited == 0 {
		t.Fatalf("at most %d tasks ran at once (limit 3); %d task.waiting events", most, waited)
	}
}
