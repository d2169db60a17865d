package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// cutProxy forwards TCP connections to a server and cuts each one (both
// ways) once it has passed a random number of bytes from the server to
// the client, drawn per connection from a seeded generator.
type cutProxy struct {
	ctx            context.Context // ends with the test
	ln             net.Listener
	target         string
	seed           uint64
	minCut, maxCut int

	conns atomic.Int64
	cuts  atomic.Int64
	mu    sync.Mutex
	open  map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newCutProxy starts a proxy to target (host:port) that cuts each
// connection after [minCut, maxCut) bytes from the server.
func newCutProxy(t *testing.T, target string, seed uint64, minCut, maxCut int) *cutProxy {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ctx: t.Context(), ln: ln, target: target, seed: seed, minCut: minCut, maxCut: maxCut, open: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for c := range p.open {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) track(c net.Conn) {
	p.mu.Lock()
	p.open[c] = struct{}{}
	p.mu.Unlock()
}

func (p *cutProxy) close(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		n := p.conns.Add(1)
		rng := rand.New(rand.NewPCG(p.seed, uint64(n)))
		budget := int64(p.minCut + rng.IntN(p.maxCut-p.minCut))
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.relay(down, budget)
		}()
	}
}

// relay copies between down (the client) and the server until budget
// bytes went down, then cuts both connections.
func (p *cutProxy) relay(down net.Conn, budget int64) {
	p.track(down)
	defer p.close(down)
	up, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		return
	}
	p.track(up)
	defer p.close(up)
	go func() { _, _ = io.Copy(up, down) }()
	if n, _ := io.CopyN(down, up, budget); n == budget {
		p.cuts.Add(1)
	}
}

// The key property: a stream whose connections are cut at random points,
// many times, yields every event of the task exactly once, in seq order,
// ends with the terminal event and io.EOF, and its chain verifies.
func TestStreamResumesThroughRandomCuts(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		direct := b.client(t, tenantA)
		// 30 steps of 10 lines and a progress event: 334 events of about
		// 600 bytes, some streamed live, most from the store.
		st := start(t, direct, map[string]int{"steps": 30, "interval_ms": 20, "output_lines_per_step": 10})

		// A new seed each run, logged so that a failure's cuts can be replayed.
		seed := uint64(time.Now().UnixNano())
		t.Logf("cut proxy seed %d", seed)
		proxy := newCutProxy(t, strings.TrimPrefix(b.url, "http://"), seed, 256, 24<<10)
		c, err := client.New(proxy.url(), client.WithToken(b.keys[tenantA]))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		s := c.Stream(ctx, st.TaskID, client.StreamOptions{Verify: true, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
		defer func() { _ = s.Close() }()
		var got []domain.Event
		for {
			e, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("after %d events and %d reconnects: %v", len(got), s.Reconnects(), err)
			}
			got = append(got, e)
		}
		if _, err := s.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("Next after the end: %v", err)
		}
		checkSeqs(t, got, 1)
		if want := int64(3 + 30*11 + 1); int64(len(got)) != want || s.LastSeq() != want {
			t.Fatalf("%d events, last seq %d; want %d", len(got), s.LastSeq(), want)
		}
		if got[len(got)-1].Type != domain.TaskSucceededType {
			t.Fatalf("the task ended with %s", got[len(got)-1].Type)
		}
		if err := integrity.Verify(got); err != nil {
			t.Fatal(err)
		}
		if s.Reconnects() < 5 || proxy.cuts.Load() < 5 {
			t.Fatalf("%d reconnects, %d cuts: the test did not exercise resumption", s.Reconnects(), proxy.cuts.Load())
		}
		t.Logf("%d events over %d reconnects (%d connections cut)", len(got), s.Reconnects(), proxy.cuts.Load())

		// The same events as a direct reader sees.
		all := follow(t, direct, st.TaskID, client.StreamOptions{})
		for i := range all {
			if all[i].Hash != got[i].Hash {
				t.Fatalf("event %d differs", i)
			}
		}
	})
}

// A 404 is final: Next returns it after one request, without retrying.
func TestStreamNotFoundIsFinal(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		missing := uuid.New()
		path := "/mcp/tasks/" + missing.String() + "/stream"
		s := b.client(t, tenantA).Stream(t.Context(), missing, client.StreamOptions{InitialBackoff: time.Millisecond})
		defer func() { _ = s.Close() }()
		_, err := s.Next()
		if !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("stream of no task: %v", err)
		}
		if _, again := s.Next(); !errors.Is(again, client.ErrNotFound) {
			t.Fatalf("Next after the failure: %v", again)
		}
		if n := b.count("GET", path); n != 1 || s.Reconnects() != 0 {
			t.Fatalf("%d requests, %d reconnects for a 404", n, s.Reconnects())
		}

		// Another tenant's task, or no credential: final too.
		st := start(t, b.client(t, tenantA), mockArgs)
		other := b.client(t, tenantB).Stream(t.Context(), st.TaskID, client.StreamOptions{})
		defer func() { _ = other.Close() }()
		if _, err := other.Next(); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("stream of another tenant's task: %v", err)
		}
		anonymous := b.client(t, "").Stream(t.Context(), st.TaskID, client.StreamOptions{})
		defer func() { _ = anonymous.Close() }()
		if _, err := anonymous.Next(); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("stream without a credential: %v", err)
		}
		if n := b.count("GET", st.StreamURL); n != 2 {
			t.Fatalf("%d requests for two final errors", n)
		}
	})
}

// Cancelling the context, or closing the stream, stops a Next that waits
// for a quiet task promptly.
func TestStreamStopsPromptly(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		st := start(t, c, map[string]int{"steps": 10, "interval_ms": 60_000})
		defer func() { _ = c.CancelTask(context.Background(), st.TaskID, "") }()

		for _, stop := range []string{"cancel", "close"} {
			ctx, cancel := context.WithCancel(t.Context())
			reads := &readWatch{entered: make(chan struct{}, 16)}
			watched := b.client(t, tenantA, client.WithHTTPClient(&http.Client{Transport: reads}))
			s := watched.Stream(ctx, st.TaskID, client.StreamOptions{})
			for {
				e, err := s.Next()
				if err != nil {
					t.Fatal(err)
				}
				if e.Type == domain.TaskStartedType {
					break
				}
			}
			reads.armed.Store(true) // from here on, only the Next below reads
			done := make(chan error, 1)
			go func() {
				_, err := s.Next() // the task is silent for a minute
				done <- err
			}()
			// Two reads of the connection: the first brought a ping (all a
			// silent task's stream sends) that Next took without returning,
			// and Next is reading again.
			for i := range 2 {
				select {
				case <-reads.entered:
				case err := <-done:
					t.Fatalf("%s: Next returned %v before the stop", stop, err)
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: Next made %d reads of the connection in 5 s; the server pings every 200 ms", stop, i)
				}
			}
			began := time.Now()
			want := context.Canceled
			if stop == "cancel" {
				cancel()
			} else {
				_ = s.Close()
				want = client.ErrClosed
			}
			select {
			case err := <-done:
				if !errors.Is(err, want) {
					t.Fatalf("%s: Next returned %v, want %v", stop, err, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: Next still blocks", stop)
			}
			if d := time.Since(began); d > time.Second {
				t.Fatalf("%s: Next took %s to stop", stop, d)
			}
			if _, err := s.Next(); !errors.Is(err, want) {
				t.Fatalf("%s: Next afterwards: %v", stop, err)
			}
			_ = s.Close()
			cancel()
		}
	})
}

// readWatch is a transport on http.DefaultTransport whose response bodies
// report, once armed, each Read as it begins on entered (dropped when
// entered is full).
type readWatch struct {
	armed   atomic.Bool
	entered chan struct{}
}

func (w *readWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = watchedBody{ReadCloser: resp.Body, w: w}
	return resp, nil
}

// watchedBody is a response body that reports its Reads to w.
type watchedBody struct {
	io.ReadCloser
	w *readWatch
}

func (b watchedBody) Read(p []byte) (int, error) {
	if b.w.armed.Load() {
		select {
		case b.w.entered <- struct{}{}:
		default:
		}
	}
	return b.ReadCloser.Read(p)
}

// 5xx and 429 answers are retried, honouring Retry-After; MaxRetries
// bounds the attempts in a row.
func TestStreamRetriesServerErrors(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		st := start(t, c, mockArgs)
		var failures atomic.Int64
		failures.Store(3)
		b.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != st.StreamURL || failures.Add(-1) < 0 {
				return false
			}
			w.Header().Set("Content-Type", "application/problem+json")
			if failures.Load() == 0 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"type":"urn:axontask:problem:rate-limited","title":"Too many requests","status":429,"detail":"slow down"}`)
				return true
			}
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, `<html>bad gateway</html>`)
			return true
		})
		began := time.Now()
		s := c.Stream(t.Context(), st.TaskID, client.StreamOptions{InitialBackoff: time.Millisecond})
		var got []domain.Event
		for {
			e, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		_ = s.Close()
		checkSeqs(t, got, 1)
		if s.Reconnects() != 3 || time.Since(began) < time.Second {
			t.Fatalf("%d reconnects in %s; want 3, waiting out Retry-After: 1", s.Reconnects(), time.Since(began))
		}

		b.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != st.StreamURL {
				return false
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		})
		s = c.Stream(t.Context(), st.TaskID, client.StreamOptions{InitialBackoff: time.Millisecond, MaxRetries: 2})
		defer func() { _ = s.Close() }()
		_, err := s.Next()
		if checkStatus(t, err, 503); s.Reconnects() != 2 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Fatalf("%d reconnects: %v", s.Reconnects(), err)
		}
	})
}

// A resume token reads the stream without the credential, from any seq;
// after the terminal event the stream ends at once; a client that trusts
// the head it resumes from verifies the rest.
func TestStreamResumeTokenAndSinceSeq(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		st := start(t, b.client(t, tenantA), mockArgs)
		anonymous := b.client(t, "")
		all := follow(t, anonymous, st.TaskID, client.StreamOptions{ResumeToken: st.ResumeToken, Verify: true})
		checkSeqs(t, all, 1)

		rest := follow(t, anonymous, st.TaskID, client.StreamOptions{ResumeToken: st.ResumeToken, SinceSeq: 3, Verify: true, TrustedHash: all[2].Hash})
		checkSeqs(t, rest, 4)

		s := anonymous.Stream(t.Context(), st.TaskID, client.StreamOptions{ResumeToken: st.ResumeToken, SinceSeq: 3, Verify: true})
		if _, err := s.Next(); err == nil || !strings.Contains(err.Error(), "TrustedHash") {
			t.Fatalf("verifying from seq 3 without a trusted hash: %v", err)
		}
		_ = s.Close()
		s = anonymous.Stream(t.Context(), st.TaskID, client.StreamOptions{ResumeToken: st.ResumeToken, SinceSeq: 3, Verify: true, TrustedHash: all[1].Hash})
		var verr *integrity.VerifyError
		if _, err := s.Next(); !errors.As(err, &verr) || verr.Kind != integrity.BadStart {
			t.Fatalf("verifying from a wrong trusted hash: %v", err)
		}
		_ = s.Close()

		// Resuming after the terminal event: the server ends the stream at
		// once and the stream ends.
		end := anonymous.Stream(t.Context(), st.TaskID, client.StreamOptions{ResumeToken: st.ResumeToken, SinceSeq: int64(len(all)), MaxRetries: 1})
		defer func() { _ = end.Close() }()
		if e, err := end.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("stream after the end: %+v, %v", e, err)
		}

		s = anonymous.Stream(t.Context(), st.TaskID, client.StreamOptions{ResumeToken: "not-a-token"})
		defer func() { _ = s.Close() }()
		if _, err := s.Next(); !errors.Is(err, client.ErrNotFound) || strings.Contains(err.Error(), "not-a-token") {
			t.Fatalf("a wrong resume token: %v", err)
		}
		if _, err := anonymous.TaskEvents(t.Context(), st.TaskID, client.EventsOptions{ResumeToken: st.ResumeToken, SinceSeq: 2, Limit: 2}); err != nil {
			t.Fatalf("events with the resume token: %v", err)
		}
	})
}

// A stream whose events were altered on the way fails verification, finally.
func TestStreamVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		st := start(t, c, mockArgs)
		// Rewrite "line 1" into "line 9" in every frame the API writes.
		b.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != st.StreamURL {
				return false
			}
			b.api.ServeHTTP(&rewriter{ResponseWriter: w, old: []byte("line 1"), new: []byte("line 9")}, r)
			return true
		})
		s := c.Stream(t.Context(), st.TaskID, client.StreamOptions{Verify: true})
		defer func() { _ = s.Close() }()
		var err error
		for err == nil {
			_, err = s.Next()
		}
		var verr *integrity.VerifyError
		if !errors.As(err, &verr) || verr.Kind != integrity.WrongDigest {
			t.Fatalf("a tampered stream: %v", err)
		}
		if s.Reconnects() != 0 {
			t.Fatalf("%d reconnects after a broken chain", s.Reconnects())
		}
	})
}

// rewriter replaces old with new in what is written through it.
type rewriter struct {
	http.ResponseWriter
	old, new []byte
}

func (w *rewriter) Write(p []byte) (int, error) {
	if _, err := w.ResponseWriter.Write(bytes.ReplaceAll(p, w.old, w.new)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush flushes; there is no Unwrap, so that the stream cannot hijack its
// connection and write past the rewriter.
func (w *rewriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// Errors never hold the resume token, not even a transport error's URL.
func TestErrorsHoldNoToken(t *testing.T) {
	t.Parallel()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	const token = "secret-resume-token"
	c, err := client.New("http://"+addr, client.WithToken("axt_secret_key"))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	_, evErr := c.TaskEvents(t.Context(), id, client.EventsOptions{ResumeToken: token})
	s := c.Stream(t.Context(), id, client.StreamOptions{ResumeToken: token, InitialBackoff: time.Millisecond, MaxRetries: 1})
	_, streamErr := s.Next()
	_ = s.Close()
	_, statusErr := c.TaskStatus(t.Context(), id)
	for _, err := range []error{evErr, streamErr, statusErr} {
		if err == nil {
			t.Fatal("a call to a closed port succeeded")
		}
		if msg := err.Error(); strings.Contains(msg, "secret") {
			t.Fatalf("the error holds a secret: %s", msg)
		}
	}
	if !strings.Contains(streamErr.Error(), "REDACTED") {
		t.Fatalf("stream error %v", streamErr)
	}
}

// frameFilter rewrites the SSE frames the API writes through it; each
// Write holds whole frames.
type frameFilter struct {
	http.ResponseWriter
	rewrite func(frame []byte) []byte
}

func (w *frameFilter) Write(p []byte) (int, error) {
	var out []byte
	for _, f := range bytes.SplitAfter(p, []byte("\n\n")) {
		if len(f) > 0 {
			out = append(out, w.rewrite(f)...)
		}
	}
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush flushes; there is no Unwrap, so that the stream cannot hijack its
// connection and write past the frameFilter.
func (w *frameFilter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// A frame repeated is dropped; a frame missing makes the stream resume
// from the last event it yielded. Either way each event comes once.
func TestStreamDropsRepeatsAndResumesAfterGaps(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		for _, tc := range []struct {
			name       string
			rewrite    func(frame []byte) []byte
			reconnects int
		}{
			{"repeats", func(f []byte) []byte { return append(append([]byte(nil), f...), f...) }, 0},
			{"gap", func(f []byte) []byte {
				if bytes.HasPrefix(f, []byte("id: 3\n")) {
					return nil
				}
				return f
			}, 1},
		} {
			st := start(t, c, mockArgs)
			var first atomic.Bool
			first.Store(true)
			b.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != st.StreamURL || !first.CompareAndSwap(true, false) {
					return false
				}
				b.api.ServeHTTP(&frameFilter{ResponseWriter: w, rewrite: tc.rewrite}, r)
				return true
			})
			s := c.Stream(t.Context(), st.TaskID, client.StreamOptions{Verify: true, InitialBackoff: time.Millisecond})
			var got []domain.Event
			for {
				e, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				got = append(got, e)
			}
			_ = s.Close()
			checkSeqs(t, got, 1)
			if s.Reconnects() != tc.reconnects {
				t.Fatalf("%s: %d reconnects, want %d", tc.name, s.Reconnects(), tc.reconnects)
			}
		}
		b.setFault(nil)
	})
}
