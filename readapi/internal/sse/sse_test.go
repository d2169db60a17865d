package sse_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/readapi/internal/sse"
)

// engine is a server of streams on a real SQLite store whose appends are
// announced on an in-process bus to a running hub.
type engine struct {
	url   string
	hub   *sse.Hub
	store eventstore.Store
	// ended is what every stream's Ended answers.
	ended bool
}

// runHub runs a hub subscribed to pubsub until the test ends.
func runHub(t *testing.T, pubsub *gochannel.GoChannel) *sse.Hub {
	t.Helper()
	hub, err := sse.NewHub(sse.HubConfig{Subscriber: pubsub})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	if err := hub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { _ = hub.Run(ctx) })
	return hub
}

// newEngine serves GET /{stream id}?since=N through an sse.Server; with
// noHijack, through a ResponseWriter that cannot be hijacked, as HTTP/2's.
func newEngine(t *testing.T, noHijack bool) *engine {
	t.Helper()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	store := teststores.Engines[0].Open(t, eventstore.Options{Committed: bus.NewAnnouncer(pubsub, nil).Committed})
	hub := runHub(t, pubsub)
	e := &engine{hub: hub, store: store}
	srv := sse.NewServer(sse.ServerConfig{
		Hub: hub, Store: store, Retry: 2 * time.Second, PingInterval: 50 * time.Millisecond, WriteTimeout: time.Second,
		Logger: testLogger(t),
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noHijack {
			w = flushOnly{w}
		}
		since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
		srv.Serve(w, r, sse.Stream{
			ID: strings.TrimPrefix(r.URL.Path, "/"), Since: since,
			Ended: func(context.Context) (bool, error) { return e.ended, nil },
		})
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// flushOnly is a ResponseWriter that flushes and does nothing else: no
// Hijack, no deadlines.
type flushOnly struct{ http.ResponseWriter }

func (f flushOnly) Flush() { f.ResponseWriter.(http.Flusher).Flush() }

// append appends events of the given types to a task stream after seq
// after, and returns them as stored.
func (e *engine) append(t *testing.T, streamID string, after int64, types ...domain.EventType) []domain.Event {
	t.Helper()
	events := make([]domain.NewEvent, len(types))
	for i, typ := range types {
		events[i] = domain.NewEvent{EventID: uuid.New(), Type: typ, Payload: []byte(`{"n":` + strconv.Itoa(i) + `}`), OccurredAt: time.Now()}
	}
	stored, err := e.store.Append(t.Context(), eventstore.Stream{ID: streamID, Type: domain.StreamTask, TenantID: "tenant"}, after, events)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// open opens the stream after seq since and returns its reader.
func (e *engine) open(t *testing.T, streamID string, since int64) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.url+"/"+streamID+"?since="+strconv.FormatInt(since, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	if got := readBlock(t, r); got != "retry: 2000\n" {
		t.Fatalf("first block %q, want the retry hint", got)
	}
	return r
}

// readBlock reads one SSE block (up to its blank line), "" at the end.
func readBlock(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && b.Len() == 0 && line == "" {
			return ""
		}
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

// readFrames reads the frames of n events, skipping pings, and checks each
// against the stored event: id, event and the envelope without position.
func readFrames(t *testing.T, r *bufio.Reader, want []domain.Event) {
	t.Helper()
	for i := 0; i < len(want); {
		block := readBlock(t, r)
		if block == ": ping\n" {
			continue
		}
		e := want[i]
		e.Position = domain.NoPosition
		data, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if exp := fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n", e.Seq, e.Type, data); block != exp {
			t.Fatalf("frame %d:\n%q\nwant\n%q", i, block, exp)
		}
		i++
	}
}

// readEnd reads until the server closes the stream, skipping pings.
func readEnd(t *testing.T, r *bufio.Reader) {
	t.Helper()
	for {
		switch block := readBlock(t, r); block {
		case "":
			return
		case ": ping\n":
		default:
			t.Fatalf("got %q after the terminal event", block)
		}
	}
}

// A stream writes the stored events after since, then the live ones, and
// ends after the terminal event; a stream that cannot leave its handler
// does the same.
func TestStreamCatchesUpThenFollowsTheLiveTail(t *testing.T) {
	t.Parallel()
	for _, noHijack := range []bool{false, true} {
		t.Run("noHijack="+strconv.FormatBool(noHijack), func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, noHijack)
			id := uuid.NewString()
			stored := e.append(t, id, 0, domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType)
			r := e.open(t, id, 1)
			readFrames(t, r, stored[1:])
			live := e.append(t, id, 3, domain.TaskOutputType, domain.TaskSucceededType)
			readFrames(t, r, live)
			readEnd(t, r)
			testwait.For(t, "the stream to leave the hub", func() bool { return e.hub.Streams() == 0 })
		})
	}
}

// A stream that has ended by its since is empty and ends at once.
func TestEndedStreamEndsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEngine(t, false)
	e.ended = true
	id := uuid.NewString()
	e.append(t, id, 0, domain.TaskCreatedType, domain.TaskCanceledType)
	readEnd(t, e.open(t, id, 2))
}

// An idle stream leaves net/http: no goroutine serves it while it waits,
// yet it gets its live tail, and the hub notices a client that left.
func TestIdleStreamsPark(t *testing.T) {
	t.Parallel()
	const streams, leaving = 20, 5
	e := newEngine(t, false)
	id := uuid.NewString()
	e.append(t, id, 0, domain.TaskCreatedType)
	conns := make([]net.Conn, streams)
	readers := make([]*bufio.Reader, streams)
	for i := range conns {
		conns[i], readers[i] = dial(t, e.url, id)
	}
	testwait.For(t, "the streams to leave their handlers", func() bool {
		return goroutinesIn("sse.(*Server).Serve") == 0 && e.hub.Streams() == streams
	})
	for _, c := range conns[:leaving] {
		_ = c.Close()
	}
	testwait.For(t, "the hub to notice the clients that left", func() bool { return e.hub.Streams() == streams-leaving })
	live := e.append(t, id, 1, domain.TaskOutputType, domain.TaskFailedType)
	for _, r := range readers[leaving:] {
		readFrames(t, r, live)
		readEnd(t, r)
	}
	testwait.For(t, "the streams to end", func() bool { return e.hub.Streams() == 0 })
}

// dial opens a stream from its start on a raw connection and reads it
// past its first event.
func dial(t *testing.T, base, id string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := fmt.Fprintf(c, "GET /%s?since=0 HTTP/1.1\r\nHost: x\r\n\r\n", id); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	r := bufio.NewReader(resp.Body)
	if got := readBlock(t, r); !strings.HasPrefix(got, "retry:") {
		t.Fatalf("first block %q", got)
	}
	if got := readBlock(t, r); !strings.HasPrefix(got, "id: 1\n") {
		t.Fatalf("second block %q", got)
	}
	return c, r
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

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
