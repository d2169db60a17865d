package readapi

import (
	"context"
	"encoding/json"
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

// TenantFeedReader reads a tenant's slice of the feed and waits for it to
// grow (eventstore.TenantFeedStore has it).
type TenantFeedReader interface {
	TenantFeedRead(ctx context.Context, q eventstore.TenantFeedQuery) ([]domain.Event, error)
	TenantFeedHead(ctx context.Context) (int64, error)
	TenantFeedWait(ctx context.Context, pos int64) error
}

// feedRetryDelay is how long a GET /v1/events stream waits after the store
// failed before it tries again.
const feedRetryDelay = time.Second

// The stream types GET /v1/events serves: task streams to whoever reads
// tasks, the tenant's own streams (members, API keys, webhooks) to those
// who manage them too. User and session streams never: their payloads hold
// password and refresh token hashes. Usage streams are read for the usage
// increments of ?include=projections only; their events are not sent.
var (
	readerStreamTypes = []domain.StreamType{domain.StreamTask}
	adminStreamTypes  = []domain.StreamType{domain.StreamTask, domain.StreamTenant, domain.StreamAPIKey, domain.StreamWebhook, domain.StreamSecret}
)

// includeProjections is the ?include= value that adds the projection
// changes.
const includeProjections = "projections"

// The parts of a feed position's frames, in the order they are sent: the
// projection changes the event caused, then the event itself, whose id is
// the bare position (a frame id "P" means every frame of P was sent).
const (
	partTask  = 1
	partUsage = 2
	partEvent = 3
)

// frameID returns the SSE id of a frame: "P" for the event at P, "P.n" for
// its projection change of part n.
func frameID(pos int64, part int) string {
	if part == partEvent {
		return strconv.FormatInt(pos, 10)
	}
	return strconv.FormatInt(pos, 10) + "." + strconv.Itoa(part)
}

// feedRequest is a parsed GET /v1/events request.
type feedRequest struct {
	// q is the store query: q.After is the last position whose frames were
	// all sent.
	q eventstore.TenantFeedQuery
	// skipPos and skipUpTo resume inside a position: the frames of
	// skipPos with a part up to skipUpTo were sent (skipUpTo 0: none).
	skipPos  int64
	skipUpTo int
	// eventStreams are the stream types whose events are sent.
	eventStreams []domain.StreamType
	// types are the frame types kept (nil: every one).
	types []string
	// projections adds the projection changes (include=projections);
	// changes says that the type filter keeps some.
	projections, changes bool
	// fromNow says the request starts at the feed's current end
	// (wire.FeedAfterNow), which startNow resolves.
	fromNow bool
}

// startNow resolves ?after=now: the feed's head when the request came, so
// that only events final after it are sent.
func (f *feedRequest) startNow(ctx context.Context, feed TenantFeedReader) error {
	if !f.fromNow {
		return nil
	}
	head, err := feed.TenantFeedHead(ctx)
	if err != nil {
		return err
	}
	f.q.After, f.fromNow = head-1, false
	return nil
}

// keep reports whether frames of type t are sent.
func (f *feedRequest) keep(t string) bool { return f.types == nil || slices.Contains(f.types, t) }

// feedFrames is a page's frames.
type feedFrames struct {
	events      []domain.Event
	projections []wire.FeedProjection
	// order lists the frames in the order they are sent: an index into
	// events (>= 0) or, as -1-i, into projections.
	order []int
}

// frames derives the frames of page, the store's answer to f.q, and moves
// f past it; on an error it leaves f where it was.
func (f *feedRequest) frames(ctx context.Context, p *feedProjector, page []domain.Event) (feedFrames, error) {
	var out feedFrames
	for i := range page {
		e := &page[i]
		if f.changes {
			changes, err := p.projectionFrames(ctx, e, f.keep)
			if err != nil {
				return out, err
			}
			for _, c := range changes {
				if e.Position == f.skipPos && frameIsSent(c.ID, f.skipUpTo) {
					continue
				}
				out.order = append(out.order, -1-len(out.projections))
				out.projections = append(out.projections, c)
			}
		}
		if f.keep(string(e.Type)) && slices.Contains(f.eventStreams, e.StreamType) {
			out.order = append(out.order, len(out.events))
			out.events = append(out.events, *e)
		}
	}
	if len(page) > 0 {
		f.q.After, f.skipUpTo = page[len(page)-1].Position, 0
	}
	p.endPage()
	return out, nil
}

// frameIsSent reports whether a projection frame of id, at the position a
// resume starts inside, was sent: its part is at most upTo.
func frameIsSent(id string, upTo int) bool {
	_, part, _ := strings.Cut(id, ".")
	n, _ := strconv.Atoi(part)
	return n <= upTo
}

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
	f, err := feedQuery(r, p, stream)
	if err == nil {
		err = f.startNow(r.Context(), a.cfg.Feed)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if stream {
		a.streamTenantEvents(w, r, &f)
		return
	}
	page, err := a.cfg.Feed.TenantFeedRead(r.Context(), f.q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.storeDown.Succeeded()
	frames, err := f.frames(r.Context(), newFeedProjector(a.cfg.Store, a.snapshots), page)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	resp := wire.TenantEventPage{Events: append([]domain.Event{}, frames.events...), NextAfter: f.q.After}
	if f.projections {
		resp.Projections = append([]wire.FeedProjection{}, frames.projections...)
	}
	if err := writeJSON(w, http.StatusOK, resp); err != nil {
		a.writeError(w, r, err)
	}
}

// feedQuery reads GET /v1/events's parameters: after (or, for a stream,
// Last-Event-ID, which wins; "now" for the feed's current end, which
// startNow resolves), limit, include, stream_type and type (each
// repeatable); the stream types are those p may read.
func feedQuery(r *http.Request, p commands.Principal, stream bool) (feedRequest, error) {
	params := r.URL.Query()
	f := feedRequest{q: eventstore.TenantFeedQuery{TenantID: p.TenantID, After: -1, Limit: DefaultEventsLimit}}
	if stream {
		f.q.Limit = MaxEventsLimit
	}
	after := params.Get("after")
	if v, ok := r.Header["Last-Event-Id"]; ok && len(v) > 0 && stream {
		after = v[0]
	}
	switch after {
	case "":
	case wire.FeedAfterNow:
		f.fromNow = true
	default:
		if err := f.resumeAfter(after); err != nil {
			return f, err
		}
	}
	if params.Has("limit") {
		n, err := strconv.Atoi(params.Get("limit"))
		if err != nil || n < 1 || n > MaxEventsLimit {
			return f, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxEventsLimit)}
		}
		f.q.Limit = n
	}
	for _, v := range params["include"] {
		if v != includeProjections {
			return f, &domain.ValidationError{Field: "include", Reason: fmt.Sprintf("%q is not something the feed includes; use include=%s", v, includeProjections)}
		}
		f.projections = true
	}
	if err := f.streamTypes(params["stream_type"], p); err != nil {
		return f, err
	}
	if err := f.frameTypes(params["type"]); err != nil {
		return f, err
	}
	return f, f.q.Validate()
}

// resumeAfter reads where the request resumes: a frame id, "P" (after
// every frame of position P; -1 for the start) or "P.n" (after P's
// projection change of part n).
func (f *feedRequest) resumeAfter(id string) error {
	bad := &domain.ValidationError{Field: "after", Reason: "must be a frame id: a feed position (an event's position, or -1 for the start), or a projection change's id such as 41.1; or now for the feed's current end"}
	posText, partText, inside := strings.Cut(id, ".")
	pos, err := strconv.ParseInt(posText, 10, 64)
	if err != nil || pos < -1 {
		return bad
	}
	f.q.After = pos
	if !inside {
		return nil
	}
	part, err := strconv.Atoi(partText)
	if err != nil || pos < 0 || (part != partTask && part != partUsage) {
		return bad
	}
	f.q.After, f.skipPos, f.skipUpTo = pos-1, pos, part
	return nil
}

// streamTypes sets the stream types read and those whose events are sent,
// from ?stream_type= (none: every one p may read).
func (f *feedRequest) streamTypes(asked []string, p commands.Principal) error {
	allowed := readerStreamTypes
	if p.Can(domain.ActionManageMembers) {
		allowed = adminStreamTypes
	}
	f.eventStreams = allowed
	read := allowed
	if f.projections {
		read = append(slices.Clip(allowed), domain.StreamUsage)
	}
	f.q.StreamTypes = read
	if len(asked) == 0 {
		return nil
	}
	f.q.StreamTypes = nil
	for _, s := range asked {
		st := domain.StreamType(s)
		if !slices.Contains(read, st) {
			return &domain.ValidationError{Field: "stream_type", Reason: fmt.Sprintf("%q is not served to these credentials; ask for one of %v", s, read)}
		}
		f.q.StreamTypes = append(f.q.StreamTypes, st)
	}
	return nil
}

// frameTypes sets the frame types kept, from ?type= (none: every one):
// event types, and with include=projections projection.task and
// projection.usage. The store reads every type when projection changes
// are kept: they are derived from every event of a task.
func (f *feedRequest) frameTypes(asked []string) error {
	if len(asked) > eventstore.MaxTenantFeedTypes {
		return &domain.ValidationError{Field: "type", Reason: fmt.Sprintf("lists %d types; at most %d", len(asked), eventstore.MaxTenantFeedTypes)}
	}
	wantsChanges := f.projections && len(asked) == 0
	for _, t := range asked {
		switch t {
		case wire.ProjectionTaskType, wire.ProjectionUsageType:
			if !f.projections {
				return &domain.ValidationError{Field: "type", Reason: fmt.Sprintf("%s frames are sent only with include=%s; add it", t, includeProjections)}
			}
			wantsChanges = true
		default:
			f.q.Types = append(f.q.Types, domain.EventType(t))
		}
		f.types = append(f.types, t)
	}
	f.changes = wantsChanges
	if wantsChanges {
		if err := (eventstore.TenantFeedQuery{TenantID: f.q.TenantID, After: -1, Types: f.q.Types}).Validate(); err != nil {
			return err
		}
		f.q.Types = nil
	}
	return nil
}

// streamTenantEvents writes the tenant's frames after the request's
// resume point as Server-Sent Events (id: the frame id, event: its type,
// data: the event's envelope or the projection change), then follows new
// ones until the client leaves, with a ping comment every PingInterval of
// silence. Caught up, it waits until the hub hears of an event of its
// tenant and the store has it final (waitFeed), so a new event goes out as
// soon as it is final, and an idle stream costs a goroutine and one look at
// the store per ping. A client resumes with Last-Event-ID and sees every
// frame once, in order.
func (a *api) streamTenantEvents(w http.ResponseWriter, r *http.Request, f *feedRequest) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	meter := a.cfg.Meter.Tenant(f.q.TenantID)
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
	// Registered before the first read, so that every event committed
	// after it is heard of.
	watch, leave := a.cfg.Hub.WatchTenant(f.q.TenantID)
	defer leave()
	projector := newFeedProjector(a.cfg.Store, a.snapshots)
	silentSince := time.Now()
	for {
		head, read, err := a.readFeedPage(ctx, f, projector)
		if ctx.Err() != nil {
			return
		}
		if err == nil && len(read.order) > 0 {
			buf, err := appendFrames(nil, read)
			if err != nil || !write(buf) {
				return
			}
			silentSince = time.Now()
		}
		switch {
		case err == nil && read.full:
			continue
		case err == nil:
			// Every final event below head has been read: wait for the
			// next one.
			err = a.waitFeed(ctx, watch, max(head, f.q.After+1), &silentSince, write)
		}
		if ctx.Err() != nil || errors.Is(err, errClientGone) {
			return
		}
		if err != nil {
			a.storeDown.Note(ctx, err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(feedRetryDelay):
			}
		}
	}
}

// errClientGone says that a stream's client did not take a write.
var errClientGone = errors.New("the client is gone")

// waitFeed waits until the stream has something to read at or after
// position pos (see awaitTenant), writing a ping whenever the stream has
// been silent for PingInterval. After a ping with nothing heard it returns
// too, so that the stream looks at the store in case a bus message was
// lost. It fails with errClientGone when a ping cannot be written.
func (a *api) waitFeed(ctx context.Context, watch *TenantWatch, pos int64, silentSince *time.Time, write func([]byte) bool) error {
	for {
		untilPing, cancel := context.WithTimeout(ctx, a.cfg.PingInterval-time.Since(*silentSince))
		err := a.awaitTenant(untilPing, watch, pos)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if !write([]byte(": ping\n\n")) {
			return errClientGone
		}
		*silentSince = time.Now()
		if watch.Heard() <= pos {
			return nil
		}
	}
}

// awaitTenant waits until the hub has heard of an event of the tenant at
// or after position pos and the store's tenant feed holds it final
// (TenantFeedWait: on Postgres its index may be a moment behind the bus),
// or until the bus may have lost messages. Neither wait polls: an idle
// stream, whatever other tenants do, costs a goroutine.
func (a *api) awaitTenant(ctx context.Context, watch *TenantWatch, pos int64) error {
	resyncs := watch.Resyncs()
	for {
		woken := watch.Wait()
		if heard := watch.Heard(); heard > pos {
			return a.cfg.Feed.TenantFeedWait(ctx, heard-1)
		}
		if watch.Resyncs() != resyncs {
			return nil // the bus may have lost messages: look at the store
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-woken: // news, or an event the stream has read already
		}
	}
}

// feedPage is one page of a stream: its frames and whether the store's
// page was full (more may follow at once).
type feedPage struct {
	feedFrames
	full bool
}

// readFeedPage reads the tenant feed's head, then the page after f's
// resume point, and derives its frames: every final event below the head
// returned is in the page or before it, unless the page is full.
func (a *api) readFeedPage(ctx context.Context, f *feedRequest, p *feedProjector) (int64, feedPage, error) {
	head, err := a.cfg.Feed.TenantFeedHead(ctx)
	if err != nil {
		return 0, feedPage{}, err
	}
	page, err := a.cfg.Feed.TenantFeedRead(ctx, f.q)
	if err != nil {
		return 0, feedPage{}, err
	}
	a.storeDown.Succeeded()
	frames, err := f.frames(ctx, p, page)
	return head, feedPage{feedFrames: frames, full: len(page) == f.q.Limit}, err
}

// appendFrames renders frames as SSE frames.
func appendFrames(buf []byte, frames feedPage) ([]byte, error) {
	var err error
	for _, i := range frames.order {
		if i >= 0 {
			e := &frames.events[i]
			buf = fmt.Appendf(buf, "id: %d\nevent: %s\ndata: ", e.Position, e.Type)
			if buf, err = e.AppendJSON(buf); err != nil {
				return nil, err
			}
		} else {
			c := &frames.projections[-1-i]
			buf = fmt.Appendf(buf, "id: %s\nevent: %s\ndata: ", c.ID, c.Type)
			b, err := json.Marshal(c)
			if err != nil {
				return nil, err
			}
			buf = append(buf, b...)
		}
		buf = append(buf, "\n\n"...)
	}
	return buf, nil
}
