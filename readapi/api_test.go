package readapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
)

// TestMain runs the tests, then checks that they exercised every operation
// of openapi.json.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkEveryOperationExercised(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	testpg.StopAll()
	os.Exit(code)
}

const (
	tenantA  = "tenant-a"
	tenantB  = "tenant-b"
	mockArgs = `{"steps":3,"interval_ms":5}`
)

// reply is a response whose body is closed when the test ends.
type reply struct{ *http.Response }

// do sends a request with tenant's API key (none when empty) and returns
// the response.
func (b *bundle) do(t *testing.T, method, path, tenant, body string, hdr ...string) reply {
	t.Helper()
	if tenant != "" {
		hdr = append(hdr, "Authorization", "Bearer "+b.keys[tenant])
	}
	return b.send(t, method, path, body, hdr...)
}

// send sends a request with the headers hdr (name, value, …); the request
// and its answer must match openapi.json.
func (b *bundle) send(t *testing.T, method, path, body string, hdr ...string) reply {
	t.Helper()
	// A guard against a hang, not a measure: a stream of a task's 20,000
	// events, read while the task runs, takes longer than 30 s under the
	// race detector when make test runs packages side by side.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, method, b.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return reply{resp}
}

func decode[T any](t *testing.T, resp reply, status int) T {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

type started struct {
	TaskID      string `json:"task_id"`
	StreamURL   string `json:"stream_url"`
	ResumeToken string `json:"resume_token"`
}

func (b *bundle) start(t *testing.T) started {
	t.Helper()
	resp := b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"t","adapter":"mock","args":`+mockArgs+`,"timeout_s":60}`)
	s := decode[started](t, resp, http.StatusCreated)
	if s.StreamURL != "/mcp/tasks/"+s.TaskID+"/stream" || s.ResumeToken == "" {
		t.Fatalf("start answered %+v", s)
	}
	return s
}

// run runs the task in the background and waits for it at cleanup.
func (b *bundle) run(t *testing.T, id string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.runner.Run(context.Background(), uuid.MustParse(id), b.tenants[tenantA]) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("run %s: %v", id, err)
		}
	})
}

type status struct {
	TaskID    string  `json:"task_id"`
	State     string  `json:"state"`
	Attempt   int     `json:"attempt"`
	StartedAt *string `json:"started_at"`
	EndedAt   *string `json:"ended_at"`
	CreatedAt *string `json:"created_at"`
	LastSeq   int64   `json:"last_seq"`
}

type frame struct {
	id, event, data string
	comment         bool
}

type sse struct {
	t *testing.T
	r *bufio.Reader
	// cut accepts a connection that ends mid-frame, as the server's end of
	// a stream it closed for falling behind; the partial frame is dropped.
	cut bool
}

func openSSE(t *testing.T, resp reply) *sse {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream: status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	s := &sse{t: t, r: bufio.NewReader(resp.Body)}
	f, ok := s.next()
	if !ok || f.comment || f.id != "" || f.data != "" {
		t.Fatalf("first frame %+v, want the retry hint", f)
	}
	return s
}

// next reads one frame; ok is false at the end of the stream.
func (s *sse) next() (f frame, ok bool) {
	s.t.Helper()
	seen := false
	for {
		line, err := s.r.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return f, false
		}
		if err != nil && s.cut {
			return frame{}, false
		}
		if err != nil {
			s.t.Fatalf("read stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if seen {
				return f, true
			}
			continue
		}
		seen = true
		switch k, v, _ := strings.Cut(line, ": "); k {
		case "id":
			f.id = v
		case "event":
			f.event = v
		case "data":
			f.data = v
		case "retry":
			if v != "2000" {
				s.t.Fatalf("retry %q", v)
			}
		case "":
			f.comment = true
		default:
			s.t.Fatalf("unexpected line %q", line)
		}
	}
}

// events reads event frames to the end of the stream, skipping pings.
func (s *sse) events() []domain.Event {
	s.t.Helper()
	var out []domain.Event
	for {
		f, ok := s.next()
		if !ok {
			return out
		}
		if f.comment {
			continue
		}
		out = append(out, s.event(f))
	}
}

func (s *sse) event(f frame) domain.Event {
	s.t.Helper()
	var e domain.Event
	if err := e.UnmarshalJSON([]byte(f.data)); err != nil {
		s.t.Fatalf("frame data %q: %v", f.data, err)
	}
	if f.id != strconv.FormatInt(e.Seq, 10) || f.event != string(e.Type) {
		s.t.Fatalf("frame id %q event %q for seq %d type %s", f.id, f.event, e.Seq, e.Type)
	}
	return e
}

func checkSeqs(t *testing.T, events []domain.Event, from int64) {
	t.Helper()
	for i, e := range events {
		if e.Seq != from+int64(i) {
			t.Fatalf("event %d has seq %d, want %d", i, e.Seq, from+int64(i))
		}
	}
	if len(events) == 0 || !events[len(events)-1].Type.Terminal() {
		t.Fatalf("stream did not end with a terminal event: %d events", len(events))
	}
}

func TestStartStatusStream(t *testing.T) {
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		got := decode[status](t, b.do(t, "GET", "/mcp/tasks/"+st.TaskID+"/status", tenantA, ""), http.StatusOK)
		if got.State != "queued" || got.LastSeq != 2 || got.Attempt != 1 || got.CreatedAt == nil || got.StartedAt != nil || got.EndedAt != nil {
			t.Fatalf("status after start: %+v", got)
		}
		b.run(t, st.TaskID)
		events := openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, "")).events()
		checkSeqs(t, events, 1)
		if err := integrity.Verify(events); err != nil {
			t.Fatalf("verify streamed events: %v", err)
		}
		if last := events[len(events)-1]; last.Type != domain.TaskSucceededType {
			t.Fatalf("last event %s", last.Type)
		}
		got = decode[status](t, b.do(t, "GET", "/mcp/tasks/"+st.TaskID+"/status", tenantA, ""), http.StatusOK)
		if got.State != "succeeded" || got.LastSeq != int64(len(events)) || got.StartedAt == nil || got.EndedAt == nil {
			t.Fatalf("status after the end: %+v", got)
		}

		// /v1 events: pages, next_seq, ended; beyond the end is empty.
		type page struct {
			Events  []json.RawMessage `json:"events"`
			NextSeq int64             `json:"next_seq"`
			Ended   bool              `json:"ended"`
		}
		p := decode[page](t, b.do(t, "GET", "/v1/tasks/"+st.TaskID+"/events?since_seq=1&limit=2", tenantA, ""), http.StatusOK)
		if len(p.Events) != 2 || p.NextSeq != 3 || p.Ended {
			t.Fatalf("first page: %d events, next %d, ended %v", len(p.Events), p.NextSeq, p.Ended)
		}
		p = decode[page](t, b.do(t, "GET", "/v1/tasks/"+st.TaskID+"/events?since_seq=3", tenantA, ""), http.StatusOK)
		if len(p.Events) != len(events)-3 || p.NextSeq != int64(len(events)) || !p.Ended {
			t.Fatalf("rest: %d events, next %d, ended %v", len(p.Events), p.NextSeq, p.Ended)
		}
		p = decode[page](t, b.do(t, "GET", "/v1/tasks/"+st.TaskID+"/events?since_seq=999", tenantA, ""), http.StatusOK)
		if len(p.Events) != 0 || p.NextSeq != 999 || !p.Ended {
			t.Fatalf("beyond the end: %+v", p)
		}
	})
}

func TestResume(t *testing.T) {
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		b.run(t, st.TaskID)
		all := openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, "")).events()

		events := openSSE(t, b.do(t, "GET", st.StreamURL+"?since_seq=1", tenantA, "", "Last-Event-ID", "3")).events()
		checkSeqs(t, events, 4)
		if len(events) != len(all)-3 {
			t.Fatalf("resumed stream has %d events, want %d", len(events), len(all)-3)
		}
		events = openSSE(t, b.do(t, "POST", "/mcp/tasks/"+st.TaskID+"/resume", tenantA, `{"last_seq":2}`)).events()
		checkSeqs(t, events, 3)
	})
}

// A stream gets its live tail and pings whether it leaves its handler once
// idle (HTTP/1) or cannot (HTTP/2, or a writer without Hijack).
func TestLiveTailAndPing(t *testing.T) {
	for _, mode := range []struct {
		name     string
		noHijack bool
	}{{"parked", false}, {"in handler", true}} {
		t.Run(mode.name, func(t *testing.T) {
			// A write's deadline must not outlive it: the live events come
			// after the ping's deadline has passed.
			o := setupOpts{noHijack: mode.noHijack, pingInterval: 200 * time.Millisecond, writeTimeout: 50 * time.Millisecond}
			forEachStore(t, o, func(t *testing.T, b *bundle) {
				st := b.start(t)
				stream := openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, ""))
				var events []domain.Event
				for len(events) < 2 {
					f, ok := stream.next()
					if !ok {
						t.Fatal("stream ended early")
					}
					if !f.comment {
						events = append(events, stream.event(f))
					}
				}
				// Queued and idle: the stream pings.
				if f, ok := stream.next(); !ok || !f.comment {
					t.Fatalf("want a ping, got %+v", f)
				}
				time.Sleep(100 * time.Millisecond)
				b.run(t, st.TaskID)
				events = append(events, stream.events()...)
				checkSeqs(t, events, 1)
				if err := integrity.Verify(events); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func TestCancel(t *testing.T) {
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		queued := b.start(t)
		for range 2 { // idempotent
			got := decode[map[string]bool](t, b.do(t, "POST", "/mcp/tasks/"+queued.TaskID+"/cancel", tenantA, ""), http.StatusOK)
			if !got["canceled"] {
				t.Fatalf("cancel answered %v", got)
			}
		}
		if got := decode[status](t, b.do(t, "GET", "/mcp/tasks/"+queued.TaskID+"/status", tenantA, ""), http.StatusOK); got.State != "canceled" {
			t.Fatalf("state %s after cancel", got.State)
		}
		events := openSSE(t, b.do(t, "GET", queued.StreamURL, tenantA, "")).events()
		if events[len(events)-1].Type != domain.TaskCanceledType {
			t.Fatalf("last event %s", events[len(events)-1].Type)
		}

		done := b.start(t)
		b.run(t, done.TaskID)
		openSSE(t, b.do(t, "GET", done.StreamURL, tenantA, "")).events()
		resp := b.do(t, "POST", "/mcp/tasks/"+done.TaskID+"/cancel", tenantA, "")
		p := decode[map[string]any](t, resp, http.StatusConflict)
		if resp.Header.Get("Content-Type") != "application/problem+json" || p["state"] != "succeeded" || !strings.Contains(fmt.Sprint(p["detail"]), "succeeded") {
			t.Fatalf("cancel of a finished task: %v", p)
		}
	})
}

func TestTokenAndTenants(t *testing.T) {
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		one, two := b.start(t), b.start(t)
		b.run(t, one.TaskID)
		events := openSSE(t, b.do(t, "GET", one.StreamURL+"?token="+one.ResumeToken, "", "")).events()
		checkSeqs(t, events, 1)
		decode[status](t, b.do(t, "GET", "/mcp/tasks/"+one.TaskID+"/status?token="+one.ResumeToken, "", ""), http.StatusOK)

		notFound := func(resp reply) {
			t.Helper()
			p := decode[map[string]any](t, resp, http.StatusNotFound)
			if resp.Header.Get("Content-Type") != "application/problem+json" || p["status"] != float64(404) {
				t.Fatalf("want a 404 problem, got %v", p)
			}
		}
		// A token of another task.
		notFound(b.do(t, "GET", two.StreamURL+"?token="+one.ResumeToken, "", ""))
		notFound(b.do(t, "GET", two.StreamURL+"?token=bogus", "", ""))
		// A token does not cancel.
		if resp := b.do(t, "POST", "/mcp/tasks/"+two.TaskID+"/cancel?token="+two.ResumeToken, "", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("cancel with a token: status %d", resp.StatusCode)
		}
		// A task that does not exist.
		notFound(b.do(t, "GET", "/mcp/tasks/"+uuid.NewString()+"/status", tenantA, ""))
		// Another tenant sees nothing.
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/mcp/tasks/" + two.TaskID + "/status", ""},
			{"POST", "/mcp/tasks/" + two.TaskID + "/cancel", ""},
			{"GET", "/mcp/tasks/" + two.TaskID + "/stream", ""},
			{"POST", "/mcp/tasks/" + two.TaskID + "/resume", `{"last_seq":0}`},
			{"GET", "/v1/tasks/" + two.TaskID + "/events", ""},
		} {
			notFound(b.do(t, c.method, c.path, tenantB, c.body))
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		body := `{"name":"t","adapter":"mock","args":` + mockArgs + `}`
		first := decode[started](t, b.do(t, "POST", "/mcp/start_task", tenantA, body, "Idempotency-Key", "k1"), http.StatusCreated)
		again := decode[started](t, b.do(t, "POST", "/mcp/start_task", tenantA, body, "Idempotency-Key", "k1"), http.StatusCreated)
		if first != again {
			t.Fatalf("a repeated start answered %+v, then %+v", first, again)
		}
		other := `{"name":"other","adapter":"mock","args":` + mockArgs + `}`
		p := decode[map[string]any](t, b.do(t, "POST", "/mcp/start_task", tenantA, other, "Idempotency-Key", "k1"), http.StatusConflict)
		if p["field"] != "Idempotency-Key" {
			t.Fatalf("reused key: %v", p)
		}
		resp := b.do(t, "DELETE", "/mcp/tasks/"+first.TaskID+"/status", tenantA, "")
		decode[map[string]any](t, resp, http.StatusMethodNotAllowed)
		if resp.Header.Get("Allow") != "GET" {
			t.Fatalf("Allow %q", resp.Header.Get("Allow"))
		}
	})
}

func TestBadInput(t *testing.T) {
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
		for _, c := range []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"unknown adapter", "POST", "/mcp/start_task", `{"name":"t","adapter":"nope","args":{}}`, 400, "adapter"},
			{"missing name", "POST", "/mcp/start_task", `{"adapter":"mock","args":{}}`, 400, "name"},
			{"wrong type", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","timeout_s":"60"}`, 400, "timeout_s"},
			{"wrong type of name", "POST", "/mcp/start_task", `{"name":5,"adapter":"mock"}`, 400, "name"},
			{"unknown field", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","colour":1}`, 400, "colour"},
			{"bad args", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","args":{"steps":"x"}}`, 400, ""},
			{"retry without max_attempts", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"initial_interval_ms":5}}`, 400, "retry.max_attempts"},
			{"retry too often", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"max_attempts":101}}`, 400, "retry.max_attempts"},
			{"retry's wait too long", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"max_attempts":2,"max_interval_ms":86400001}}`, 400, "retry.max_interval_ms"},
			{"retry's coefficient below 1", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"max_attempts":2,"backoff_coefficient":0.5}}`, 400, "retry.backoff_coefficient"},
			{"retry's exit code 0", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"max_attempts":2,"non_retryable_exit_codes":[0]}}`, 400, "retry.non_retryable_exit_codes"},
			{"retry's unknown field", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"max_attempts":2,"jitter":1}}`, 400, "jitter"},
			{"retry's wrong type", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","retry":{"max_attempts":"2"}}`, 400, "retry.max_attempts"},
			{"unknown on_interrupt", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","on_interrupt":"sometimes"}`, 400, "on_interrupt"},
			{"huge body", "POST", "/mcp/start_task", huge, 413, "body"},
			{"invalid json", "POST", "/mcp/start_task", `{"name":`, 400, "body"},
			{"trailing data", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock"} {}`, 400, "body"},
			{"null body", "POST", "/mcp/tasks/" + st.TaskID + "/resume", ` null `, 400, "body"},
			{"invalid uuid", "GET", "/mcp/tasks/not-a-uuid/status", "", 400, "id"},
			{"invalid uuid cancel", "POST", "/mcp/tasks/123/cancel", "", 400, "id"},
			{"negative since_seq", "GET", st.StreamURL + "?since_seq=-1", "", 400, "since_seq"},
			{"non-integer since_seq", "GET", "/v1/tasks/" + st.TaskID + "/events?since_seq=abc", "", 400, "since_seq"},
			{"limit too big", "GET", "/v1/tasks/" + st.TaskID + "/events?limit=1001", "", 400, "limit"},
			{"negative last_seq", "POST", "/mcp/tasks/" + st.TaskID + "/resume", `{"last_seq":-3}`, 400, "last_seq"},
			{"wrong method", "DELETE", "/mcp/start_task", "", 405, ""},
			{"unknown route", "GET", "/mcp/nothing", "", 404, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp := b.do(t, c.method, c.path, tenantA, c.body)
				p := decode[map[string]any](t, resp, c.status)
				if resp.Header.Get("Content-Type") != "application/problem+json" || p["title"] == "" || p["detail"] == "" || p["status"] != float64(c.status) {
					t.Fatalf("not a problem: %v", p)
				}
				if c.field != "" && p["field"] != c.field {
					t.Fatalf("field %v, want %q: %v", p["field"], c.field, p)
				}
				if c.name == "bad args" && p["field"] == nil {
					t.Fatalf("no field: %v", p)
				}
			})
		}
		bad := b.do(t, "GET", st.StreamURL, tenantA, "", "Last-Event-ID", "x")
		if p := decode[map[string]any](t, bad, 400); p["field"] != "Last-Event-ID" {
			t.Fatalf("bad Last-Event-ID: %v", p)
		}
		noAuth := b.do(t, "GET", "/mcp/tasks/"+st.TaskID+"/status", "", "")
		decode[map[string]any](t, noAuth, http.StatusUnauthorized)
	})
}

// A page of events is the digested bytes, HTML and all; a stream asked for
// past the end of a finished task ends at once.
func TestEventsVerbatimAndPastTheEnd(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		resp := b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"a <b> & c","adapter":"mock","args":{"steps":1}}`)
		st := decode[started](t, resp, http.StatusCreated)
		b.run(t, st.TaskID)
		all := openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, "")).events()
		var p struct {
			Events []domain.Event `json:"events"`
		}
		resp = b.do(t, "GET", "/v1/tasks/"+st.TaskID+"/events", tenantA, "")
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != len(all) {
			t.Fatalf("page of %d events, stream of %d", len(p.Events), len(all))
		}
		if err := integrity.Verify(p.Events); err != nil {
			t.Fatalf("the page's events do not verify: %v", err)
		}
		// Past the end of a finished task: 204, nothing to stream, ever.
		past := b.do(t, "GET", st.StreamURL+"?since_seq=99", tenantA, "")
		if body, _ := io.ReadAll(past.Body); past.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("a stream past the end of a finished task answered %d with %q, want 204 and nothing", past.StatusCode, body)
		}
	})
}
