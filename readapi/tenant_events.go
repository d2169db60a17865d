package readapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// TenantFeedReader reads a tenant's slice of the feed
// (eventstore.TenantFeedStore has it).
type TenantFeedReader interface {
	TenantFeedRead(ctx context.Context, q eventstore.TenantFeedQuery) ([]domain.Event, error)
}

// feedPollInterval is how often an idle GET /v1/events stream looks for
// new events.
const feedPollInterval = 250 * time.Millisecond

// The stream types GET /v1/events serves: task streams to whoever reads
// tasks, the tenant's own streams (members, API keys, webhooks) to those
// who manage them too. User and session streams never: their payloads hold
// password and refresh token hashes.
var (
	readerStreamTypes = []domain.StreamType{domain.StreamTask}
	adminStreamTypes  = []domain.StreamType{domain.StreamTask, domain.StreamTenant, domain.StreamAPIKey, domain.StreamWebhook, domain.StreamSecret}
)

// tenantEvents serves GET /v1/events: Server-Sent Events when the client
// accepts text/event-stream, JSON pages otherwise.
func (a *api) tenantEvents(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Feed == nil {
		a.writeError(w, r, errNoRoute)
		return
	}
	p, err := a.caller(w, r, domain.ActionReadTasks)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	stream := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	q, err := feedQuery(r, p, stream)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if stream {
		a.streamTenantEvents(w, r, q)
		return
	}
	page, err := a.cfg.Feed.TenantFeedRead(r.Context(), q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.storeDown.Succeeded()
	resp := wire.TenantEventPage{Events: append([]domain.Event{}, page...), NextAfter: q.After}
	if len(page) > 0 {
		resp.NextAfter = page[len(page)-1].Position
	}
	if err := writeJSON(w, http.StatusOK, resp); err != nil {
		a.writeError(w, r, err)
	}
}

// feedQuery reads GET /v1/events's parameters: after (or, for a stream,
// Last-Event-ID, which wins), limit, stream_type and type (each
// repeatable); the stream types are those p may read.
func feedQuery(r *http.Request, p commands.Principal, stream bool) (eventstore.TenantFeedQuery, error) {
	params := r.URL.Query()
	q := eventstore.TenantFeedQuery{TenantID: p.TenantID, After: -1, Limit: DefaultEventsLimit}
	if stream {
		q.Limit = MaxEventsLimit
	}
	after := params.Get("after")
	if v, ok := r.Header["Last-Event-Id"]; ok && len(v) > 0 && stream {
		after = v[0]
	}
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < -1 {
			return q, &domain.ValidationError{Field: "after", Reason: "must be a feed position (an event's position, or -1 for the start)"}
		}
		q.After = n
	}
	if params.Has("limit") {
		n, err := strconv.Atoi(params.Get("limit"))
		if err != nil || n < 1 || n > MaxEventsLimit {
			return q, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxEventsLimit)}
		}
		q.Limit = n
	}
	allowed := readerStreamTypes
	if p.Can(domain.ActionManageMembers) {
		allowed = adminStreamTypes
	}
	q.StreamTypes = allowed
	if asked := params["stream_type"]; len(asked) > 0 {
		q.StreamTypes = nil
		for _, s := range asked {
			st := domain.StreamType(s)
			if !slices.Contains(allowed, st) {
				return q, &domain.ValidationError{Field: "stream_type", Reason: fmt.Sprintf("%q is not served to these credentials; ask for one of %v", s, allowed)}
			}
			q.StreamTypes = append(q.StreamTypes, st)
		}
	}
	for _, t := range params["type"] {
		q.Types = append(q.Types, domain.EventType(t))
	}
	return q, q.Validate()
}

// streamTenantEvents writes the tenant's events after q.After as
// Server-Sent Events (id: position, event: type, data: the envelope),
// then follows new ones until the client leaves, with a ping comment every
// PingInterval of silence. A client resumes with Last-Event-ID and sees
// every event once, in order.
func (a *api) streamTenantEvents(w http.ResponseWriter, r *http.Request, q eventstore.TenantFeedQuery) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	meter := a.cfg.Meter.Tenant(q.TenantID)
	meter.StreamOpened()
	defer a.cfg.StreamFunc("tenant")()
	write := func(b []byte) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(a.cfg.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		n, err := w.Write(b)
		meter.BytesSent(n)
		if err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(fmt.Appendf(nil, "retry: %d\n\n", DefaultRetry.Milliseconds())) {
		return
	}
	silentSince := time.Now()
	for {
		page, err := a.cfg.Feed.TenantFeedRead(ctx, q)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			a.storeDown.Note(ctx, err)
		}
		var buf []byte
		for i := range page {
			e := &page[i]
			buf = fmt.Appendf(buf, "id: %d\nevent: %s\ndata: ", e.Position, e.Type)
			if buf, err = e.AppendJSON(buf); err != nil {
				return
			}
			buf = append(buf, "\n\n"...)
			q.After = e.Position
		}
		if len(buf) > 0 {
			if !write(buf) {
				return
			}
			silentSince = time.Now()
		}
		if len(page) == q.Limit {
			continue
		}
		if time.Since(silentSince) >= a.cfg.PingInterval {
			if !write([]byte(": ping\n\n")) {
				return
			}
			silentSince = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(feedPollInterval):
		}
	}
}
