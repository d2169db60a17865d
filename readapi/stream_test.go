package readapi_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
)

// With no announcements, the hub's copy of the feed (the relay's topic)
// alone carries a stream's live tail.
func TestStreamFedByTheRelayAlone(t *testing.T) {
	t.Parallel()
	// No ping either, whose look in the store would also fill the stream.
	forEachStore(t, setupOpts{relayOnly: true, pingInterval: time.Hour}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		s := openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, ""))
		b.run(t, st.TaskID)
		events := s.events()
		checkSeqs(t, events, 1)
		if err := integrity.Verify(events); err != nil {
			t.Fatal(err)
		}
	})
}

// An idle stream leaves net/http: no goroutine serves it while it waits,
// yet it gets its live tail, and it ends when its client leaves.
func TestIdleStreamsLeaveTheirHandlers(t *testing.T) {
	// Not parallel: it counts the goroutines of the whole process.
	const streams, leaving = 50, 10
	b := bundleOn(t, teststores.Engines[0], setupOpts{})
	st := b.start(t)
	opened := make([]*sse, streams)
	conns := make([]*net.TCPConn, streams)
	for i := range opened {
		conns[i] = dialStream(t, b.url, st.StreamURL, b.keys[tenantA])
		resp, err := http.ReadResponse(bufio.NewReader(conns[i]), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		opened[i] = openSSE(t, reply{resp})
		for n := 0; n < 2; { // task.created, task.queued
			if f, ok := opened[i].next(); !ok {
				t.Fatalf("stream %d ended early", i)
			} else if !f.comment {
				n++
			}
		}
	}
	testwait.For(t, "the streams to leave their handlers", func() bool {
		return goroutinesIn("readapi.(*api).serveStream") == 0 && b.hub.Streams() == streams
	})
	for _, c := range conns[:leaving] {
		_ = c.Close()
	}
	testwait.For(t, "the hub to notice the clients that left", func() bool { return b.hub.Streams() == streams-leaving })

	b.run(t, st.TaskID)
	for i, s := range opened[leaving:] {
		events := s.events()
		if len(events) == 0 || !events[len(events)-1].Type.Terminal() {
			t.Fatalf("stream %d: %d live events and no terminal one", leaving+i, len(events))
		}
		checkSeqs(t, events, 3)
	}
	testwait.For(t, "the streams to end", func() bool { return b.hub.Streams() == 0 })
}

// A client that sends bytes after its request still gets a clean end of
// its stream: the server discards them, so that closing the connection is
// no reset, which could destroy frames the client has not read yet.
func TestStrayClientBytesDoNotResetTheStream(t *testing.T) {
	t.Parallel()
	// No ping, which would discard them too.
	forEachStore(t, setupOpts{pingInterval: time.Hour}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		c := dialStream(t, b.url, st.StreamURL, b.keys[tenantA])
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		s := openSSE(t, reply{resp})
		for n := 0; n < 2; { // task.created, task.queued
			if f, ok := s.next(); !ok {
				t.Fatal("stream ended early")
			} else if !f.comment {
				n++
			}
		}
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		waitAcked(t, c)
		b.run(t, st.TaskID)
		events := s.events() // fails on a reset
		if len(events) == 0 || !events[len(events)-1].Type.Terminal() {
			t.Fatalf("%d events and no terminal one", len(events))
		}
		checkSeqs(t, events, 3)
	})
}

// goroutinesIn counts the goroutines with fn in their stacks.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), fn+"(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// A client that stops reading cannot hold back another client of the same
// task: the server closes its stream once its queue overflows, and the
// client resumes from the last event it got, losing nothing.
func TestSlowClientIsCutOffAndResumes(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{writeTimeout: 500 * time.Millisecond}, func(t *testing.T, b *bundle) {
		// About 20,000 events of ~450 bytes: more than the socket buffers
		// between the server and a client that does not read.
		resp := b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"t","adapter":"mock","args":{"steps":200,"interval_ms":1,"output_lines_per_step":100},"timeout_s":300}`)
		st := decode[started](t, resp, http.StatusCreated)

		slow := dialStream(t, b.url, st.StreamURL, b.keys[tenantA])
		b.run(t, st.TaskID)
		all := b.follow(t, st.StreamURL, 0)
		checkSeqs(t, all, 1)

		// The slow client now reads what reached it: a prefix, then the end.
		got := readUntilClosed(t, slow)
		if len(got) == 0 || len(got) >= len(all) {
			t.Fatalf("the slow client got %d of %d events: it was not cut off", len(got), len(all))
		}
		for i, e := range got {
			if e.Seq != int64(i+1) {
				t.Fatalf("slow client: event %d has seq %d", i, e.Seq)
			}
		}
		rest := b.follow(t, st.StreamURL, got[len(got)-1].Seq)
		if err := integrity.Verify(append(got, rest...)); err != nil {
			t.Fatal(err)
		}
		checkSeqs(t, append(got, rest...), 1)
	})
}

// follow reads a task's stream after seq from to its terminal event,
// resuming from the last event received whenever the server closes it.
func (b *bundle) follow(t *testing.T, path string, from int64) []domain.Event {
	t.Helper()
	var got []domain.Event
	for range 100 {
		last := from
		if len(got) > 0 {
			last = got[len(got)-1].Seq
		}
		got = append(got, openSSE(t, b.do(t, "GET", path, tenantA, "", "Last-Event-ID", strconv.FormatInt(last, 10))).events()...)
		if len(got) > 0 && got[len(got)-1].Type.Terminal() {
			return got
		}
	}
	t.Fatalf("no terminal event after 100 connections (%d events)", len(got))
	return nil
}

// dialStream opens a stream with an API key on a raw connection and reads nothing.
func dialStream(t *testing.T, base, path, key string) *net.TCPConn {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	tc := c.(*net.TCPConn)
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", path, u.Host, key); err != nil {
		t.Fatal(err)
	}
	return tc
}

// readUntilClosed reads the stream's events until the server closes it.
func readUntilClosed(t *testing.T, c *net.TCPConn) []domain.Event {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	s := openSSE(t, reply{resp})
	s.cut = true
	return s.events()
}
