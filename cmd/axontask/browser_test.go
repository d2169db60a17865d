package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// chromium returns the path of Debian's Chromium. Without it the test is
// skipped, except in CI (CI set), which must have it (.ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must have Chromium for the browser test; .ci/run installs it")
	}
	t.Skip("Chromium is not installed: apt-get install -y chromium")
	return ""
}

// A real browser (Chromium, driven over the DevTools protocol) follows a
// task with EventSource and ?token=, as a web page would: a proxy between
// it and the server cuts the stream once mid-task, the browser reconnects
// with Last-Event-ID and gets every event exactly once, and after the
// task's end its one reconnection is answered 204, which closes the
// EventSource for good: no request follows.
func TestBrowserEventSource(t *testing.T) {
	t.Parallel()
	browserPath := chromium(t)
	dev := startDev(t, nil)
	c, err := client.New(dev.base, client.WithToken(dev.key))
	if err != nil {
		t.Fatal(err)
	}
	started, err := c.StartTask(t.Context(), client.StartTaskRequest{
		Name: "browser", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":60,"interval_ms":100}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := newCutProxy(t, dev.base)

	ctx := newBrowser(t, browserPath)

	// The page is on the proxy's origin, so the stream is same-origin.
	var types []string
	for _, ty := range []domain.EventType{
		domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskWaitingType, domain.TaskStartedType, domain.TaskOutputType,
		domain.TaskProgressType, domain.TaskCancelRequestedType, domain.TaskLeaseLostType,
		domain.TaskSucceededType, domain.TaskFailedType, domain.TaskCanceledType, domain.TaskTimedOutType,
	} {
		types = append(types, string(ty))
	}
	typesJSON, _ := json.Marshal(types)
	streamURL, _ := json.Marshal(started.StreamURL + "?token=" + url.QueryEscape(started.ResumeToken))
	script := fmt.Sprintf(`(() => {
		window.seen = [];
		const es = new EventSource(%s);
		for (const type of %s) es.addEventListener(type, (e) => window.seen.push({id: e.lastEventId, type: e.type}));
		window.es = es;
		return true;
	})()`, streamURL, typesJSON)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(p.url+"/healthz")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script)); err != nil {
		t.Fatal(err)
	}
	type seenEvent struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	var seen []seenEvent
	waitFor := func(what, cond string) {
		t.Helper()
		waitJS(t, ctx, what, cond)
		var err error
		if seen, err = chromedp.Run(ctx, chromedp.Evaluate[[]seenEvent](`window.seen`)); err != nil {
			t.Fatal(err)
		}
	}

	waitFor("three events", `window.seen.length >= 3`)
	p.cut()
	cutAt := len(seen)
	waitFor("the task's end", fmt.Sprintf(`window.seen.some((e) => %s.includes(e.type))`, mustJSON(t, []string{
		string(domain.TaskSucceededType), string(domain.TaskFailedType), string(domain.TaskCanceledType), string(domain.TaskTimedOutType),
	})))
	waitFor("the EventSource closed", `window.es.readyState === EventSource.CLOSED`)

	if cutAt >= len(seen) {
		t.Fatalf("the cut came after the task's end (%d events)", cutAt)
	}
	// Every event exactly once, in seq order, up to the last.
	st, err := c.TaskStatus(t.Context(), started.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range seen {
		if e.ID != strconv.Itoa(i+1) {
			t.Fatalf("event %d has id %s (a gap or a duplicate): %v", i, e.ID, seen)
		}
	}
	if int64(len(seen)) != st.LastSeq || seen[len(seen)-1].Type != string(domain.TaskSucceededType) {
		t.Fatalf("saw %d events ending with %s; the task has %d, %s", len(seen), seen[len(seen)-1].Type, st.LastSeq, st.State)
	}

	// The requests: the first stream, cut; a resumption with Last-Event-ID;
	// after the end, one reconnection answered 204, and then none, however
	// long the browser is left alone (here three times the retry hint).
	requests := p.requests()
	if len(requests) < 3 || requests[0].status != http.StatusOK || requests[1].lastEventID == "" || requests[len(requests)-1].status != http.StatusNoContent {
		t.Fatalf("stream requests %+v", requests)
	}
	for _, r := range requests[:len(requests)-1] {
		if r.status != http.StatusOK {
			t.Errorf("stream request %+v before the last", r)
		}
	}
	time.Sleep(3 * p.retryHint(t, dev.base, started.StreamURL, started.ResumeToken))
	if after := p.requests(); len(after) != len(requests) {
		t.Errorf("the browser asked again after the 204: %+v", after[len(requests):])
	}
	t.Logf("Chromium followed %d events over %d stream requests (cut when it had %d, resumed with Last-Event-ID %s; the last answered %d)",
		len(seen), len(requests), cutAt, requests[1].lastEventID, requests[len(requests)-1].status)
}

// newBrowser starts a headless Chromium at browserPath for the test (in a
// fresh profile, stopped when the test ends) and returns its first tab's
// context, which times out after two minutes.
func newBrowser(t *testing.T, browserPath string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(browserPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// waitJS polls the page in ctx until the JavaScript expression cond is
// true, failing the test when ctx ends first.
func waitJS(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the browser never saw %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// mustJSON encodes v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cutProxy is a reverse proxy to an API that records the task stream
// requests through it and can cut the ones in flight.
type cutProxy struct {
	url string

	mu      sync.Mutex
	log     []*streamRequest
	cancels map[*streamRequest]context.CancelFunc
}

// streamRequest is a stream request through a cutProxy.
type streamRequest struct {
	lastEventID string
	status      int
}

func newCutProxy(t *testing.T, base string) *cutProxy {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{cancels: map[*streamRequest]context.CancelFunc{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/stream") {
			rp.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		req := &streamRequest{lastEventID: r.Header.Get("Last-Event-ID")}
		p.mu.Lock()
		p.log = append(p.log, req)
		p.cancels[req] = cancel
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.cancels, req)
			p.mu.Unlock()
			cancel()
		}()
		rp.ServeHTTP(&statusRecorder{ResponseWriter: w, p: p, req: req}, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// cut ends the stream requests in flight.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cancel := range p.cancels {
		cancel()
	}
}

// requests returns the stream requests so far.
func (p *cutProxy) requests() []streamRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]streamRequest, len(p.log))
	for i, r := range p.log {
		out[i] = *r
	}
	return out
}

// retryHint reads the retry: hint of a task's stream.
func (p *cutProxy) retryHint(t *testing.T, base, streamURL, token string) time.Duration {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+streamURL+"?token="+url.QueryEscape(token), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if ms, ok := strings.CutPrefix(line, "retry: "); ok {
			if v, err := strconv.Atoi(strings.TrimSpace(ms)); err == nil {
				return time.Duration(v) * time.Millisecond
			}
		}
	}
	return 3 * time.Second // the stream of an ended task may hold no hint
}

// statusRecorder records the status of a stream request as it is written.
type statusRecorder struct {
	http.ResponseWriter
	p   *cutProxy
	req *streamRequest
}

func (s *statusRecorder) WriteHeader(code int) {
	s.p.mu.Lock()
	s.req.status = code
	s.p.mu.Unlock()
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the proxy flush through the recorder.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
