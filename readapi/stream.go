package readapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/readapi/internal/sse"
	"github.com/axontask/axontask/usage"
)

func (a *api) stream(w http.ResponseWriter, r *http.Request) {
	taskID, tenantID, err := a.readAccess(w, r)
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
	a.serveStream(w, r, taskID, tenantID, since)
}

func (a *api) resume(w http.ResponseWriter, r *http.Request) {
	taskID, tenantID, err := a.readAccess(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.ResumeRequest
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
	a.serveStream(w, r, taskID, tenantID, since)
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
// Events (sse.Server.Serve). A client resuming after the terminal event
// (EventSource reconnects after every close), or past the end of a
// finished task, gets 204 No Content, which tells a browser's EventSource
// to stop reconnecting; one whose task ends in the moment between this
// check and the stream's own gets an empty stream that ends.
func (a *api) serveStream(w http.ResponseWriter, r *http.Request, taskID uuid.UUID, tenantID string, since int64) {
	ended, final, err := a.endedBy(r.Context(), taskID, tenantID, since)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if ended {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var meter *usage.Counters // nil counts nothing
	if usage.Metered(r.Context()) {
		meter = a.cfg.Meter.Tenant(tenantID)
	}
	meter.StreamOpened()
	a.streams.Serve(w, r, sse.Stream{
		ID:    taskID.String(),
		Since: since,
		Ended: func(ctx context.Context) (bool, error) {
			if final { // not ended, for good: no need to read it again
				return false, nil
			}
			ended, _, err := a.endedBy(ctx, taskID, tenantID, since)
			return ended, err
		},
		RequestID: requestID(r.Context()),
		SentFunc:  meter.BytesSent,
		EndFunc:   a.cfg.StreamFunc("task"),
	})
}
