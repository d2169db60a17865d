package readapi

import (
	"context"
	"errors"
	"fmt"
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
	taskID, _, err := a.readAccess(r)
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
	taskID, _, err := a.readAccess(r)
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
// Events: the stored ones page by page, then each new one as the feed
// moves, until the terminal event or the client leaves. Each stream reads
// the store at its own pace, so a slow client only slows itself.
func (a *api) serveStream(w http.ResponseWriter, r *http.Request, taskID uuid.UUID, since int64) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 0, 4096)
	buf = append(buf, "retry: "...)
	buf = strconv.AppendInt(buf, DefaultRetry.Milliseconds(), 10)
	buf = append(buf, "\n\n"...)
	if err := a.send(rc, w, buf); err != nil {
		return
	}
	lastWrite := time.Now()
	last := since
	streamID := taskID.String()
	// A client resuming after the terminal event (EventSource reconnects
	// after every close) gets an empty stream that ends.
	if ended, _, err := a.endsAt(ctx, streamID, since); err != nil {
		a.streamFailed(r, taskID, err)
		return
	} else if ended {
		return
	}
	for {
		// The head is read before the stream: an event appended after the
		// read takes a feed position at or after it, so WaitFeed(head)
		// cannot sleep through it.
		head, err := a.cfg.Store.FeedHead(ctx)
		if err != nil {
			a.streamFailed(r, taskID, err)
			return
		}
		page, err := a.cfg.Store.ReadStream(ctx, streamID, last, streamPageSize)
		if err != nil {
			a.streamFailed(r, taskID, err)
			return
		}
		if len(page) > 0 {
			buf = buf[:0]
			for i := range page {
				e := &page[i]
				if buf, err = appendFrame(buf, e); err != nil {
					a.streamFailed(r, taskID, err)
					return
				}
				last = e.Seq
				if e.Type.Terminal() {
					_ = a.send(rc, w, buf)
					return
				}
			}
			if err := a.send(rc, w, buf); err != nil {
				return
			}
			lastWrite = time.Now()
			if len(page) == streamPageSize {
				continue // more stored events: no need to wait
			}
		}
		// Live: wait for the feed to move, pinging when silent too long.
		for {
			waitCtx, cancel := context.WithDeadline(ctx, lastWrite.Add(a.cfg.PingInterval))
			err := a.cfg.Store.WaitFeed(waitCtx, head)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return // the client left
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				a.streamFailed(r, taskID, err)
				return
			}
			if err := a.send(rc, w, []byte(": ping\n\n")); err != nil {
				return
			}
			lastWrite = time.Now()
		}
	}
}

// appendFrame appends e's SSE frame: id, event and a one-line JSON envelope.
func appendFrame(buf []byte, e *domain.Event) ([]byte, error) {
	buf = append(buf, "id: "...)
	buf = strconv.AppendInt(buf, e.Seq, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, e.Type...)
	buf = append(buf, "\ndata: "...)
	buf, err := e.AppendJSON(buf)
	if err != nil {
		return nil, err
	}
	return append(buf, "\n\n"...), nil
}

// send writes b and flushes it to the client.
func (a *api) send(rc *http.ResponseController, w http.ResponseWriter, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return rc.Flush()
}

// streamFailed logs a stream that the server ended; the status line is
// sent already, so the client sees the connection close and reconnects
// from its Last-Event-ID.
func (a *api) streamFailed(r *http.Request, taskID uuid.UUID, err error) {
	if r.Context().Err() != nil {
		return
	}
	a.cfg.Logger.ErrorContext(r.Context(), "readapi: stream ended by an error", "path", r.URL.Path, "task_id", taskID, "err", err)
}
