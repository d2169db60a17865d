package readapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// resumeRequest is the body of POST /mcp/tasks/{id}/resume.
type resumeRequest struct {
	LastSeq int64 `json:"last_seq"`
}

func (a *api) stream(w http.ResponseWriter, r *http.Request) {
	taskID, _, err := a.readAccess(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	since, err := nonNegativeParam("since_seq", r.URL.Query().Get("since_seq"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if since, err = lastEventID(r, since); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.serveStream(w, r, taskID, since)
}

func (a *api) resume(w http.ResponseWriter, r *http.Request) {
	taskID, _, err := a.readAccess(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req resumeRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.LastSeq < 0 {
		a.writeError(w, r, &domain.ValidationError{Field: "last_seq", Reason: fmt.Sprintf("is %d; it must be a non-negative integer", req.LastSeq)})
		return
	}
	since, err := lastEventID(r, req.LastSeq)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.serveStream(w, r, taskID, since)
}

// lastEventID returns the Last-Event-ID header's seq when it is set (it
// wins: the browser sends it on reconnection), since otherwise.
func lastEventID(r *http.Request, since int64) (int64, error) {
	if v, ok := r.Header["Last-Event-Id"]; ok && len(v) > 0 {
		return nonNegativeParam("Last-Event-ID", v[0])
	}
	return since, nil
}

// serveStream writes the task's events after seq since as Server-Sent
// Events: the stored ones page by page, then the live ones the hub hands
// over, until the terminal event or the client leaves. The hub never waits
// for a stream: a client that falls DefaultQueueFrames behind the live tail
// is cut off and resumes from its Last-Event-ID.
func (a *api) serveStream(w http.ResponseWriter, r *http.Request, taskID uuid.UUID, since int64) {
	ctx := r.Context()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{a: a, w: w, rc: http.NewResponseController(w), last: since}
	out.buf = append(out.buf, "retry: "...)
	out.buf = strconv.AppendInt(out.buf, DefaultRetry.Milliseconds(), 10)
	out.buf = append(out.buf, "\n\n"...)
	if out.flush() != nil {
		return
	}
	streamID := taskID.String()
	// Listen before reading the store: whatever is appended after the read
	// reaches the listener, and the overlap is skipped by seq.
	l := a.cfg.Hub.listen(streamID)
	defer a.cfg.Hub.leave(streamID, l)
	// A client resuming after the terminal event (EventSource reconnects
	// after every close), or past the end of a finished task, gets an empty
	// stream that ends.
	ended, found, err := a.endsAt(ctx, streamID, since)
	if err == nil && !found && since > 0 {
		ended, err = a.endedBefore(ctx, taskID, since)
	}
	if err != nil {
		a.streamFailed(r, taskID, err)
		return
	} else if ended {
		return
	}
	var frames []frame
	for {
		if done, err := out.catchUp(ctx, streamID, math.MaxInt64); err != nil || done {
			a.streamFailed(r, taskID, err)
			return
		}
		var overflowed bool
		// What overflowed while the store was read is in the store: read on.
		if frames, overflowed = l.take(); !overflowed {
			break
		}
	}
	ping := time.NewTimer(a.cfg.PingInterval)
	defer ping.Stop()
	for {
		for _, f := range frames {
			if f.seq <= out.last {
				continue // seen already: from the store, or a second copy
			}
			if f.seq > out.last+1 { // a gap: lost or overtaken messages
				if done, err := out.catchUp(ctx, streamID, f.seq-1); err != nil || done {
					a.streamFailed(r, taskID, err)
					return
				}
				if out.last != f.seq-1 {
					a.streamFailed(r, taskID, fmt.Errorf("events %d to %d are missing from the store", out.last+1, f.seq-1))
					return
				}
			}
			out.buf = append(out.buf, f.bytes...)
			out.last = f.seq
			if f.terminal {
				_ = out.flush()
				return
			}
		}
		if len(out.buf) > 0 {
			if out.flush() != nil {
				return
			}
			ping.Reset(a.cfg.PingInterval)
		}
		select {
		case <-ctx.Done():
			return // the client left
		case <-a.cfg.Hub.stopped():
			return // shutting down: the client resumes elsewhere
		case <-l.wake:
			var overflowed bool
			if frames, overflowed = l.take(); overflowed {
				a.cfg.Logger.InfoContext(ctx, "readapi: closed a stream whose client fell behind", "task_id", taskID, "last_seq", out.last)
				return
			}
		case <-ping.C:
			frames = nil
			// Silence is also when a lost message would show: look.
			before := out.last
			if done, err := out.catchUp(ctx, streamID, math.MaxInt64); err != nil || done {
				a.streamFailed(r, taskID, err)
				return
			}
			if out.last == before {
				out.buf = append(out.buf, ": ping\n\n"...)
			}
		}
	}
}

// sseWriter writes one stream's frames; last is the seq of the last event
// written (or the one the client resumed after).
type sseWriter struct {
	a    *api
	w    http.ResponseWriter
	rc   *http.ResponseController
	buf  []byte
	last int64
}

// catchUp writes the stored events after last, up to seq upTo, flushing
// each page. done reports that the terminal event was written.
func (o *sseWriter) catchUp(ctx context.Context, streamID string, upTo int64) (done bool, err error) {
	for o.last < upTo {
		page, err := o.a.cfg.Store.ReadStream(ctx, streamID, o.last, int(min(streamPageSize, upTo-o.last)))
		if err != nil {
			return false, err
		}
		for i := range page {
			e := &page[i]
			if o.buf, err = appendFrame(o.buf, e); err != nil {
				return false, err
			}
			o.last = e.Seq
			if e.Type.Terminal() {
				return true, o.flush()
			}
		}
		if len(page) > 0 {
			if err := o.flush(); err != nil {
				return false, err
			}
		}
		if len(page) < streamPageSize {
			return false, nil
		}
	}
	return false, nil
}

// flush writes the buffered frames to the client, who has WriteTimeout to
// take them.
func (o *sseWriter) flush() error {
	// Not every ResponseWriter supports deadlines; without one, a stuck
	// client holds its own stream only, never the hub.
	_ = o.rc.SetWriteDeadline(time.Now().Add(o.a.cfg.WriteTimeout))
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	if err != nil {
		return err
	}
	return o.rc.Flush()
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

// streamFailed logs a stream that the server ended; the status line is
// sent already, so the client sees the connection close and reconnects
// from its Last-Event-ID.
func (a *api) streamFailed(r *http.Request, taskID uuid.UUID, err error) {
	if err == nil || r.Context().Err() != nil {
		return
	}
	a.cfg.Logger.ErrorContext(r.Context(), "readapi: stream ended by an error", "path", r.URL.Path, "task_id", taskID, "err", err)
}
