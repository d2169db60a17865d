package sse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/domain"
)

// Store is what a stream reads of the event store.
type Store interface {
	// ReadStream returns up to limit events of a stream with seq > afterSeq,
	// in seq order; an unknown stream yields none.
	ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error)
}

// pageSize is how many events a stream reads from the store at once.
const pageSize = 500

// ServerConfig configures a Server. Every field is required.
type ServerConfig struct {
	// Hub hands live events to the streams; subscribed before Serve.
	Hub *Hub
	// Store is read for the events a stream has not got from the hub.
	Store Store
	// Retry is the reconnection delay a stream suggests to its client.
	Retry time.Duration
	// PingInterval is how long a stream stays silent before it writes a
	// ": ping" comment and looks in the store for lost messages.
	PingInterval time.Duration
	// WriteTimeout bounds one write to a stream's client.
	WriteTimeout time.Duration
	// Logger receives the streams' operational logs.
	Logger *slog.Logger
}

// Server serves SSE streams of the events of one stream of the store each.
// It is safe for concurrent use.
type Server struct {
	cfg ServerConfig
}

// NewServer returns a server of streams; cfg must be complete.
func NewServer(cfg ServerConfig) *Server { return &Server{cfg: cfg} }

// Stream says which stream to serve.
type Stream struct {
	// ID is the stream's id in the store.
	ID string
	// Since is the seq of the last event the client has: it gets the
	// events after it.
	Since int64
	// Ended reports whether the stream ended at or before Since, so that
	// a client resuming past the end gets an empty stream that ends; it is
	// called once the stream listens to the hub, before the store is read.
	Ended func(ctx context.Context) (bool, error)
	// RequestID labels the stream's logs.
	RequestID string
	// SentFunc, when not nil, is told the bytes of each write the client
	// took (the usage meter's bytes streamed). It must not block.
	SentFunc func(n int)
	// EndFunc, when not nil, is called once when the stream ends, which
	// may be long after Serve returned (a parked stream). It must not
	// block.
	EndFunc func()
}

// Serve writes st's events after st.Since as Server-Sent Events: the
// stored ones page by page, then the live ones the hub hands over, until
// the terminal event or the client leaves. The hub never waits for a
// stream: a client that falls its queue's bounds behind the live tail is
// cut off and resumes from its Last-Event-ID.
//
// Once it has caught up, an HTTP/1 stream leaves net/http (park): the hub
// keeps its connection, and a goroutine runs only while there is something
// to write. An idle stream then costs its socket and a few hundred bytes,
// not two goroutines and net/http's buffers.
func (srv *Server) Serve(w http.ResponseWriter, r *http.Request, st Stream) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.ProtoMajor == 1 {
		// The body ends when the connection closes, as the SSE
		// specification recommends; with no chunked framing to keep up,
		// the stream can leave net/http.
		h.Set("Transfer-Encoding", "identity")
	}
	w.WriteHeader(http.StatusOK)
	s := srv.newStream(w, r, st)
	s.buf = append(s.buf, "retry: "...)
	s.buf = strconv.AppendInt(s.buf, srv.cfg.Retry.Milliseconds(), 10)
	s.buf = append(s.buf, "\n\n"...)
	if err := s.flush(); err != nil {
		s.end(err)
		return
	}
	// Listen before reading the store: whatever is appended after the read
	// reaches the stream, and the overlap is skipped by seq.
	srv.cfg.Hub.listen(s)
	ended, err := st.Ended(s.ctx)
	if err == nil && ended {
		err = errEnded
	}
	if err == nil {
		err = s.catchUpAll()
	}
	if err != nil {
		s.end(err)
		return
	}
	if s.park() {
		return // the hub has it now
	}
	// This connection cannot leave net/http (HTTP/2, or a ResponseWriter
	// wrapper without Hijack): serve it from here.
	for {
		select {
		case <-s.ctx.Done():
			s.end(nil) // the client left
			return
		case <-srv.cfg.Hub.stopped():
			s.end(nil) // shutting down: the client resumes elsewhere
			return
		case <-s.wake:
			if err := s.work(); err != nil {
				s.end(err)
				return
			}
		}
	}
}

// Reasons a stream ends that are not failures.
var (
	// errEnded: its terminal event is written.
	errEnded = errors.New("sse: stream ended")
	// errFellBehind: its queue overflowed.
	errFellBehind = errors.New("sse: the client fell behind the live tail")
	// errClientLeft: a parked stream's client closed its end.
	errClientLeft = errors.New("sse: the client closed the connection")
)

// writeError is a write the client did not take: it left, or was slower
// than WriteTimeout.
type writeError struct{ err error }

func (e writeError) Error() string { return "write to the client: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// stream is one SSE stream: its hub-side queue of live frames, filled by
// the hub without blocking, and its writer. Until it parks, the handler's
// goroutine drains the queue (woken through wake); once parked, push writes
// what continues an idle stream at once, and a goroutine starts for the
// rest whenever there is some and none runs.
type stream struct {
	srv       *Server
	streamID  string
	path      string
	requestID string
	sent      func(n int)
	onEnd     func()
	// ctx bounds store reads: the request's until the stream parks, the
	// hub's after.
	ctx context.Context
	// ping marks a ping due after PingInterval without a write; lastWrite
	// (unix ns) puts it off, so that writes need not reset the timer.
	ping      *time.Timer
	lastWrite atomic.Int64
	wake      chan struct{}

	// Owned by whoever drains the stream: the handler, or once parked the
	// one goroutine running (or the hub, writing without waiting). buf
	// holds what is still to be written when a drainer starts.
	w    http.ResponseWriter
	rc   *http.ResponseController
	buf  []byte
	last int64 // the seq of the last event written (or resumed after)

	mu         sync.Mutex
	conn       net.Conn // set when parked
	queue      []frame
	bytes      int
	overflowed bool
	pingDue    bool
	running    bool // a parked stream is being written to
	ended      bool
}

func (srv *Server) newStream(w http.ResponseWriter, r *http.Request, st Stream) *stream {
	if st.SentFunc == nil {
		st.SentFunc = func(int) {}
	}
	if st.EndFunc == nil {
		st.EndFunc = func() {}
	}
	s := &stream{
		srv: srv, streamID: st.ID, path: r.URL.Path, requestID: st.RequestID, sent: st.SentFunc, onEnd: st.EndFunc,
		ctx: r.Context(), wake: make(chan struct{}, 1), w: w, rc: http.NewResponseController(w), last: st.Since,
	}
	s.lastWrite.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.ping = time.AfterFunc(srv.cfg.PingInterval, s.pingTimer)
	s.mu.Unlock()
	return s
}

// pingTimer marks a ping due, unless the stream wrote meanwhile: then it
// fires again PingInterval after that write.
func (s *stream) pingTimer() {
	idle := time.Since(time.Unix(0, s.lastWrite.Load()))
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if idle < s.srv.cfg.PingInterval {
		s.ping.Reset(s.srv.cfg.PingInterval - idle)
		s.mu.Unlock()
		return
	}
	s.pingDue = true
	s.ping.Reset(s.srv.cfg.PingInterval)
	s.mu.Unlock()
	s.signal()
}

// lookNow has the stream read the store for events it has not written, at
// once, as a due ping does (and a ping is written when there are none).
func (s *stream) lookNow() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.pingDue = true
	s.mu.Unlock()
	s.signal()
}

// push hands frames to the stream. When it is parked, caught up and idle,
// the caller writes them at once, as far as the socket takes them without
// waiting; the rest, and any other case, is queued for the stream's
// drainer, within the queue's bounds (past them, the stream is marked
// overflowed).
func (s *stream) push(frames []frame, maxFrames, maxBytes int) {
	s.mu.Lock()
	if s.conn != nil && !s.running && !s.ended && len(s.queue) == 0 && len(s.buf) == 0 && !s.overflowed && !s.pingDue {
		s.running = true // this goroutine writes now
		s.mu.Unlock()
		rest := s.writeNow(frames)
		s.mu.Lock()
		if len(rest) > 0 { // frames is shared with other streams: copy
			s.queue = append(append(make([]frame, 0, len(rest)+len(s.queue)), rest...), s.queue...)
			for _, f := range rest {
				s.bytes += len(f.bytes)
			}
		}
		if len(s.buf) == 0 && len(s.queue) == 0 && !s.overflowed && !s.pingDue || s.ended {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.startDrainer()
		return
	}
	if !s.overflowed {
		for _, f := range frames {
			if len(s.queue) >= maxFrames || s.bytes+len(f.bytes) > maxBytes {
				s.overflowed, s.queue, s.bytes = true, nil, 0
				break
			}
			s.queue = append(s.queue, f)
			s.bytes += len(f.bytes)
		}
	}
	s.mu.Unlock()
	s.signal()
}

// signal tells the stream's drainer there is work: the handler through
// wake, or for a parked stream a goroutine of its own unless one runs.
func (s *stream) signal() {
	s.mu.Lock()
	parked := s.conn != nil
	start := parked && !s.running && !s.ended
	s.running = s.running || start
	s.mu.Unlock()
	if !parked {
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return
	}
	if start {
		s.startDrainer()
	}
}

// startDrainer runs drain on a goroutine for a stream the caller marked
// running, or clears the mark when the hub has stopped (it ends every
// parked stream).
func (s *stream) startDrainer() {
	if !s.srv.cfg.Hub.spawn(s.drain) {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}
}

// park hands the stream's connection to the hub, when net/http lets it
// go, and reports whether it did. Work queued meanwhile starts a goroutine.
func (s *stream) park() bool {
	conn, rw, err := s.rc.Hijack()
	if err != nil {
		return false
	}
	// net/http has flushed what was written; what it read ahead of the
	// client's input is dropped (pings and end discard the rest): a
	// stream's client has nothing to say.
	_ = rw
	s.buf = nil
	s.mu.Lock()
	s.conn, s.w, s.rc = conn, nil, nil
	s.ctx = s.srv.cfg.Hub.ctx
	pending := len(s.queue) > 0 || s.overflowed || s.pingDue
	s.mu.Unlock()
	select {
	case <-s.srv.cfg.Hub.stopped():
		// The hub may have ended the parked streams before this one
		// parked: end it here (ending twice is harmless).
		s.end(nil)
		return true
	default:
	}
	if pending {
		s.signal()
	}
	return true
}

// writeNow writes the frames that continue the stream, as far as the
// socket takes them without waiting, and returns those it did not get to:
// after a gap, or when the socket is full (what it took of a frame is in
// buf, the rest for the drainer). The caller owns the writer.
func (s *stream) writeNow(frames []frame) []frame {
	for i, f := range frames {
		if f.seq <= s.last {
			continue
		}
		if f.seq != s.last+1 {
			return frames[i:] // a gap: the drainer reads the store
		}
		n, err := writeNoWait(s.conn, f.bytes)
		s.sent(n)
		if err != nil {
			s.end(writeError{err})
			return nil
		}
		s.last = f.seq
		if n < len(f.bytes) {
			s.buf = append(s.buf[:0], f.bytes[n:]...)
			if f.terminal {
				return []frame{{seq: f.seq, terminal: true}} // ends after buf
			}
			return frames[i+1:]
		}
		s.lastWrite.Store(time.Now().UnixNano())
		if f.terminal {
			s.end(errEnded)
			return nil
		}
	}
	return nil
}

// drain runs a parked stream's work until there is none left, starting
// with what writeNow could not write.
func (s *stream) drain() {
	err := error(nil)
	if len(s.buf) > 0 {
		err = s.flush()
	}
	if err == nil {
		err = s.work()
	}
	if err != nil {
		s.end(err)
	}
}

// work does the stream's pending work until there is none left; an error
// ends the stream.
func (s *stream) work() error {
	for {
		frames, overflowed, ping, ok := s.next()
		if !ok {
			return nil
		}
		if overflowed {
			return errFellBehind
		}
		if err := s.write(frames, ping); err != nil {
			return err
		}
	}
}

// next takes the stream's pending work. When there is none (ok false), a
// parked stream's goroutine stops running in the same critical section,
// so a push after it starts another.
func (s *stream) next() (frames []frame, overflowed, ping, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	frames, overflowed, ping = s.queue, s.overflowed, s.pingDue
	s.queue, s.bytes, s.overflowed, s.pingDue = nil, 0, false, false
	ok = len(frames) > 0 || overflowed || ping
	if !ok {
		s.running = false
	}
	return frames, overflowed, ping, ok
}

// catchUpAll writes the stored events, and reads on until what the hub
// queued meanwhile has not overflowed: what overflowed while the store was
// read is in the store. Then it writes what the hub queued.
func (s *stream) catchUpAll() error {
	due := false // a ping that came due meanwhile
	for {
		if err := s.catchUp(math.MaxInt64); err != nil {
			return err
		}
		frames, overflowed, ping, _ := s.next()
		due = due || ping
		if !overflowed {
			return s.write(frames, due)
		}
	}
}

// write writes the live frames the hub handed over, skipping what was sent
// and filling gaps from the store, and a ping when one is due; then it lets
// go of its buffer while the stream idles.
func (s *stream) write(frames []frame, ping bool) error {
	defer func() { s.buf = nil }()
	for _, f := range frames {
		if f.seq == s.last && f.terminal && f.bytes == nil {
			return errEnded // writeNow's terminal frame, which drain flushed
		}
		if f.seq <= s.last {
			continue // seen already: from the store, or a second copy
		}
		if f.seq > s.last+1 { // a gap: lost or overtaken messages
			if err := s.catchUp(f.seq - 1); err != nil {
				return err
			}
			if s.last != f.seq-1 {
				return fmt.Errorf("events %d to %d are missing from the store", s.last+1, f.seq-1)
			}
		}
		s.buf = append(s.buf, f.bytes...)
		s.last = f.seq
		if f.terminal {
			if err := s.flush(); err != nil {
				return err
			}
			return errEnded
		}
	}
	if ping {
		if s.clientLeft() {
			return errClientLeft
		}
		// Silence is also when a lost message would show: look.
		before := s.last
		if err := s.catchUp(math.MaxInt64); err != nil {
			return err
		}
		if s.last == before {
			s.buf = append(s.buf, ": ping\n\n"...)
		}
	}
	if len(s.buf) == 0 {
		return nil
	}
	return s.flush()
}

// catchUp writes the stored events after last, up to seq upTo, flushing
// each page; errEnded when it wrote the terminal event.
func (s *stream) catchUp(upTo int64) error {
	for s.last < upTo {
		page, err := s.srv.cfg.Store.ReadStream(s.ctx, s.streamID, s.last, int(min(pageSize, upTo-s.last)))
		if err != nil {
			return err
		}
		for i := range page {
			e := &page[i]
			if s.buf, err = appendFrame(s.buf, e); err != nil {
				return err
			}
			s.last = e.Seq
			if e.Type.Terminal() {
				if err := s.flush(); err != nil {
					return err
				}
				return errEnded
			}
		}
		if len(page) > 0 {
			if err := s.flush(); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
	}
	return nil
}

// flush writes the buffered frames to the client, who has WriteTimeout to
// take them, and puts the next ping off.
func (s *stream) flush() error {
	deadline := time.Now().Add(s.srv.cfg.WriteTimeout)
	var n int
	var err error
	if s.rc == nil { // parked
		_ = s.conn.SetWriteDeadline(deadline)
		n, err = s.conn.Write(s.buf)
		// A deadline left behind would fail the hub's next write.
		_ = s.conn.SetWriteDeadline(time.Time{})
	} else {
		// Not every ResponseWriter supports deadlines; without one, a
		// stuck client holds its own stream only, never the hub.
		_ = s.rc.SetWriteDeadline(deadline)
		if n, err = s.w.Write(s.buf); err == nil {
			err = s.rc.Flush()
		}
	}
	s.sent(n)
	s.buf = s.buf[:0]
	if err != nil {
		return writeError{err}
	}
	s.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// clientLeft reports whether a parked stream's client has closed its end,
// discarding whatever it sent (a client has nothing to say on a stream).
// A stream in its handler learns that from its request's context.
func (s *stream) clientLeft() bool {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	return conn != nil && discardInput(conn)
}

// end closes the stream, once: it stops its ping, leaves the hub and, when
// parked, closes its connection. An error that is not the client's is
// logged; the client sees the connection close and resumes from its
// Last-Event-ID.
func (s *stream) end(err error) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	conn := s.conn
	s.ping.Stop()
	s.mu.Unlock()
	s.srv.cfg.Hub.leave(s)
	defer s.onEnd()
	if conn != nil {
		// Unread input would make the close a reset, which may destroy
		// what the client has not read yet.
		discardInput(conn)
		_ = conn.Close()
	}
	var werr writeError
	switch {
	case err == nil, errors.Is(err, errEnded), s.ctx.Err() != nil:
	case errors.Is(err, errFellBehind):
		s.srv.cfg.Logger.InfoContext(s.ctx, "readapi: closed a stream whose client fell behind", "path", s.path, "task_id", s.streamID, "request_id", s.requestID, "last_seq", s.last)
	case errors.Is(err, errClientLeft), errors.As(err, &werr):
		s.srv.cfg.Logger.DebugContext(s.ctx, "readapi: a stream's client left or did not take a write", "path", s.path, "task_id", s.streamID, "request_id", s.requestID, "last_seq", s.last, "err", err)
	default:
		s.srv.cfg.Logger.ErrorContext(s.ctx, "readapi: stream ended by an error", "path", s.path, "task_id", s.streamID, "request_id", s.requestID, "err", err)
	}
}

// appendFrame appends e's SSE frame: id, event and a one-line JSON envelope.
// The envelope leaves the feed position out: a live event may not have one
// yet, and every frame of a stream has the same shape.
func appendFrame(buf []byte, e *domain.Event) ([]byte, error) {
	buf = append(buf, "id: "...)
	buf = strconv.AppendInt(buf, e.Seq, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, e.Type...)
	buf = append(buf, "\ndata: "...)
	unplaced := *e
	unplaced.Position = domain.NoPosition
	buf, err := unplaced.AppendJSON(buf)
	if err != nil {
		return nil, err
	}
	return append(buf, "\n\n"...), nil
}
