package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// Defaults of StreamOptions.
const (
	// DefaultInitialBackoff caps the first reconnection delay: the delay
	// starts at the smaller of it and the server's retry hint (2 s today).
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps every reconnection delay.
	DefaultMaxBackoff = 10 * time.Second
	// defaultRetryHint is the server's reconnection delay until it sends one.
	defaultRetryHint = 2 * time.Second
	// minBackoff keeps a server that asks for retry: 0 from being hammered.
	minBackoff = 10 * time.Millisecond
)

// Errors of a Stream.
var (
	// ErrProtocol: the server sent what the stream protocol does not allow
	// (a malformed frame, an event of another task, a line longer than any
	// event). Next returns it wrapped, as a final error.
	ErrProtocol = errors.New("axontask: stream protocol violated")
	// ErrClosed: Next was called on a Stream that Close has closed.
	ErrClosed = errors.New("axontask: stream closed")
)

// StreamOptions configure (*Client).Stream. The zero value reads every
// event of the task with the Client's credential, without verifying, and
// reconnects until the context ends.
type StreamOptions struct {
	// SinceSeq starts the stream after the event with this seq (0: at the
	// first event), as a resumption would.
	SinceSeq int64
	// ResumeToken, when set, authorizes the stream instead of the Client's
	// credential (sent as ?token=, never in an error).
	ResumeToken string
	// Verify checks the hash chain as events arrive (integrity.Verifier); an
	// event that breaks it ends the stream with an error wrapping the
	// *integrity.VerifyError. With SinceSeq > 0, TrustedHash must be the
	// hash of the event at SinceSeq, from an earlier verification.
	Verify      bool
	TrustedHash domain.Hash
	// InitialBackoff is the first reconnection delay (default: the smaller
	// of the server's retry hint and DefaultInitialBackoff). Each further
	// attempt without a new event doubles it, up to MaxBackoff, and every
	// delay is jittered down by up to half.
	InitialBackoff time.Duration
	// MaxBackoff caps the reconnection delay (default DefaultMaxBackoff). A
	// 429 or 503 waits at least its Retry-After, even past MaxBackoff.
	MaxBackoff time.Duration
	// MaxRetries bounds the reconnection attempts in a row that bring no new
	// event; past it Next returns the last failure. 0: no bound, until the
	// context ends.
	MaxRetries int
}

// Stream reads one task's events from its Server-Sent Events stream (GET
// /mcp/tasks/{id}/stream), reconnecting with Last-Event-ID whenever the
// connection fails: after a transport error, a connection that ends before
// the task's terminal event, a frame out of order, a 5xx, 408 or 429. A 400,
// 401, 403 or 404 is final.
//
// Next yields each event exactly once, seqs consecutive from SinceSeq+1,
// then io.EOF after the terminal event. Next is not safe for concurrent
// use; Close and Reconnects may be called from any goroutine. Always Close
// a Stream.
type Stream struct {
	c      *Client
	taskID uuid.UUID
	opts   StreamOptions
	// ctx is the context Stream was given, canceled by Close: a Stream is
	// one long call, like a response body, and lives as long as it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex // guards body against Close
	body   io.ReadCloser
	closed atomic.Bool

	r          *sseReader
	sawEvent   bool // the current connection yielded an event
	opened     bool // a connection was attempted
	last       int64
	verifier   *integrity.Verifier
	hint       time.Duration
	retries    int
	wait       time.Duration
	err        error // final: io.EOF after the terminal event, or a failure
	reconnects atomic.Int64
}

// Stream starts reading the events of task taskID; the first call to Next
// connects. ctx bounds the whole stream: when it ends, Next returns its
// error. Invalid options are returned by the first Next.
func (c *Client) Stream(ctx context.Context, taskID uuid.UUID, opts StreamOptions) *Stream {
	sctx, cancel := context.WithCancel(ctx)
	s := &Stream{c: c, taskID: taskID, opts: opts, ctx: sctx, cancel: cancel, last: opts.SinceSeq, hint: defaultRetryHint}
	if s.opts.MaxBackoff <= 0 {
		s.opts.MaxBackoff = DefaultMaxBackoff
	}
	switch {
	case opts.SinceSeq < 0:
		s.err = fmt.Errorf("axontask client: stream task %s: SinceSeq is %d; it must not be negative", taskID, opts.SinceSeq)
	case opts.MaxRetries < 0:
		s.err = fmt.Errorf("axontask client: stream task %s: MaxRetries is %d; use 0 for no bound", taskID, opts.MaxRetries)
	case opts.InitialBackoff < 0:
		s.err = fmt.Errorf("axontask client: stream task %s: InitialBackoff is %s; it must not be negative", taskID, opts.InitialBackoff)
	case opts.Verify:
		s.verifier = integrity.NewVerifier()
		if opts.SinceSeq > 0 {
			if opts.TrustedHash == domain.ZeroHash {
				s.err = fmt.Errorf("axontask client: stream task %s: Verify from seq %d needs TrustedHash, the hash of the event at that seq", taskID, opts.SinceSeq)
			} else if err := s.verifier.Trust(taskID.String(), opts.SinceSeq, opts.TrustedHash); err != nil {
				s.err = fmt.Errorf("axontask client: stream task %s: %w", taskID, err)
			}
		}
	}
	if s.err != nil {
		s.release()
	}
	return s
}

// Next returns the task's next event. After the terminal event it returns
// io.EOF; on a final failure (a 4xx, a broken chain, a protocol error,
// MaxRetries exhausted, the context's end, Close) that error, and from then
// on the same again.
func (s *Stream) Next() (domain.Event, error) {
	for s.err == nil {
		if s.r == nil {
			if !s.connect() {
				continue
			}
		}
		f, err := s.r.next()
		if s.r.retry > 0 {
			s.hint = s.r.retry
		}
		if err != nil {
			s.disconnect()
			switch {
			case s.stopped():
			case errors.Is(err, errLineTooLong):
				s.fail(fmt.Errorf("%w: %w", ErrProtocol, err))
			case errors.Is(err, io.EOF):
				s.endedCleanly()
			default:
				s.retryLater(redact(err), 0)
			}
			continue
		}
		e, err := s.decode(f)
		if err != nil {
			s.fail(err)
			continue
		}
		switch {
		case e.Seq <= s.last:
			continue // sent before: a resumption's overlap
		case e.Seq > s.last+1:
			s.disconnect()
			s.retryLater(fmt.Errorf("%w: event %d came after %d; resuming from %d", ErrProtocol, e.Seq, s.last, s.last), 0)
			continue
		}
		if s.verifier != nil {
			if err := s.verifier.Add(&e); err != nil {
				s.fail(fmt.Errorf("axontask client: stream task %s: %w", s.taskID, err))
				continue
			}
		}
		s.last, s.retries, s.sawEvent = e.Seq, 0, true
		if e.Type.Terminal() {
			s.err = io.EOF
			s.release()
		}
		return e, nil
	}
	return domain.Event{}, s.err
}

// LastSeq returns the seq of the last event Next returned (SinceSeq before
// the first): resume from it with StreamOptions.SinceSeq. Call it from the
// goroutine that calls Next.
func (s *Stream) LastSeq() int64 { return s.last }

// Reconnects returns how many connections the stream opened, or tried to,
// after its first one. It is safe to call from any goroutine.
func (s *Stream) Reconnects() int { return int(s.reconnects.Load()) }

// Close stops the stream: a Next blocked in another goroutine returns
// ErrClosed, and so does every later one (unless the stream had already
// ended). It releases the connection and always returns nil.
func (s *Stream) Close() error {
	s.closed.Store(true)
	s.release()
	return nil
}

// release cancels the stream's context and closes its connection.
func (s *Stream) release() {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body != nil {
		_ = s.body.Close()
		s.body = nil
	}
}

// disconnect closes the current connection.
func (s *Stream) disconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body != nil {
		_ = s.body.Close()
		s.body = nil
	}
	s.r = nil
}

// fail ends the stream with err.
func (s *Stream) fail(err error) {
	s.err = err
	s.release()
}

// stopped ends the stream and reports true when Close was called or the
// context ended.
func (s *Stream) stopped() bool {
	switch {
	case s.closed.Load():
		s.fail(ErrClosed)
	case s.ctx.Err() != nil:
		s.fail(context.Cause(s.ctx))
	default:
		return false
	}
	return true
}

// retryLater schedules a reconnection after cause, waiting at least
// retryAfter, or ends the stream when MaxRetries is exhausted.
func (s *Stream) retryLater(cause error, retryAfter time.Duration) {
	s.retries++
	if s.opts.MaxRetries > 0 && s.retries > s.opts.MaxRetries {
		s.fail(fmt.Errorf("axontask client: stream task %s: gave up after %d attempts without a new event: %w", s.taskID, s.retries, cause))
		return
	}
	s.wait = max(s.backoff(s.retries), retryAfter)
}

// backoff returns the delay before the nth attempt in a row (see
// jitteredBackoff), from InitialBackoff or the server's hint.
func (s *Stream) backoff(n int) time.Duration {
	d := s.opts.InitialBackoff
	if d == 0 {
		d = max(min(s.hint, DefaultInitialBackoff), minBackoff)
	}
	return jitteredBackoff(d, s.opts.MaxBackoff, n)
}

// jitteredBackoff returns the delay before the nth attempt in a row: first
// doubled n-1 times, capped at most, jittered down by up to half, so that
// clients that failed together do not retry together.
func jitteredBackoff(first, most time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return d/2 + rand.N(d/2+1)
}

// endedCleanly handles a connection that the server ended between frames
// before the terminal event: resume, unless the connection brought nothing
// because the task had ended at the seq resumed from (the server ends such
// a stream at once), which the events endpoint tells.
func (s *Stream) endedCleanly() {
	if !s.sawEvent {
		page, err := s.c.TaskEvents(s.ctx, s.taskID, EventsOptions{SinceSeq: s.last, Limit: 1, ResumeToken: s.opts.ResumeToken})
		var apiErr *APIError
		switch {
		case s.stopped():
			return
		case errors.As(err, &apiErr) && !apiErr.retryable():
			s.fail(err)
			return
		case err != nil:
			s.retryLater(err, 0)
			return
		case page.Ended && len(page.Events) == 0:
			s.err = io.EOF
			s.release()
			return
		}
	}
	s.retryLater(fmt.Errorf("the server ended the stream of task %s after seq %d, before its terminal event", s.taskID, s.last), 0)
}

// connect waits out the backoff, then opens a connection. It returns false
// when it did not, having scheduled a retry or ended the stream.
func (s *Stream) connect() bool {
	if s.wait > 0 {
		t := time.NewTimer(s.wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
		}
		s.wait = 0
	}
	if s.stopped() {
		return false
	}
	if s.opened {
		s.reconnects.Add(1)
	}
	s.opened = true
	k := call{method: http.MethodGet, path: "/mcp/tasks/" + s.taskID.String() + "/stream",
		header: http.Header{"Accept": {"text/event-stream"}, "Cache-Control": {"no-cache"}}}
	if s.last > 0 {
		k.header.Set("Last-Event-ID", strconv.FormatInt(s.last, 10))
	}
	if s.opts.ResumeToken != "" {
		k.query = url.Values{"token": {s.opts.ResumeToken}}
	}
	req, err := s.c.newRequest(s.ctx, k)
	if err != nil {
		s.fail(err)
		return false
	}
	resp, err := s.c.send(req)
	if err != nil {
		if !s.stopped() {
			s.retryLater(err, 0)
		}
		return false
	}
	if resp.StatusCode == http.StatusNoContent { // the task ended at or before s.last
		_ = resp.Body.Close()
		s.fail(io.EOF)
		return false
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := readAPIError(req, resp)
		switch {
		case s.stopped():
		case apiErr.retryable():
			s.retryLater(apiErr, apiErr.RetryAfter)
		default:
			s.fail(apiErr)
		}
		return false
	}
	if mediaType(resp.Header.Get("Content-Type")) != "text/event-stream" {
		_ = resp.Body.Close()
		s.fail(fmt.Errorf("%w: GET %s answered %q, not text/event-stream", ErrProtocol, req.URL.Path, resp.Header.Get("Content-Type")))
		return false
	}
	s.mu.Lock()
	s.body = resp.Body
	s.mu.Unlock()
	if s.closed.Load() { // Close ran before the body was stored
		s.disconnect()
		s.stopped()
		return false
	}
	s.r = newSSEReader(resp.Body, maxEventBytes)
	s.sawEvent = false
	return true
}

// decode parses an event frame and checks that it is one of this task's.
func (s *Stream) decode(f sseFrame) (domain.Event, error) {
	var e domain.Event
	if err := e.UnmarshalJSON(f.data); err != nil {
		return domain.Event{}, fmt.Errorf("%w: task %s: an event after seq %d: %w", ErrProtocol, s.taskID, s.last, err)
	}
	switch {
	case e.StreamID != s.taskID.String():
		return domain.Event{}, fmt.Errorf("%w: task %s: event %d is of stream %q", ErrProtocol, s.taskID, e.Seq, e.StreamID)
	case f.id != strconv.FormatInt(e.Seq, 10):
		return domain.Event{}, fmt.Errorf("%w: task %s: the frame of event %d has id %q", ErrProtocol, s.taskID, e.Seq, f.id)
	case f.event != "" && f.event != string(e.Type):
		return domain.Event{}, fmt.Errorf("%w: task %s: the frame of event %d (%s) says event %q", ErrProtocol, s.taskID, e.Seq, e.Type, f.event)
	}
	return e, nil
}
