package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// DefaultFeedPollInterval is how long a Feed waits after an empty page.
const DefaultFeedPollInterval = time.Second

// FeedOptions select a page of the tenant's feed, or where a Feed starts.
type FeedOptions struct {
	// After is the feed position to start after: -1 for the start of the
	// tenant's feed, or the last position a consumer stored.
	After int64
	// Cursor, when not empty, wins over After: the id of the last frame a
	// consumer stored (Feed.Cursor), which may be inside a position (a
	// projection change's id, "41.1").
	Cursor string
	// Limit bounds a page (0: the server's default, 100).
	Limit int
	// Projections adds the changes of read model rows that the events
	// cause (include=projections): FeedFrame.Projection, for a consumer
	// that keeps its own copy of the task list or the usage counters.
	Projections bool
	// StreamTypes and Types keep frames of these stream types and types
	// only (none: every one the credential may read). Types may name
	// api.ProjectionTaskType and api.ProjectionUsageType with Projections.
	StreamTypes []domain.StreamType
	Types       []domain.EventType
	// PollInterval is how long a Feed waits after an empty page (default
	// DefaultFeedPollInterval).
	PollInterval time.Duration
}

// FeedNow is a FeedOptions.Cursor that starts at the end the tenant's feed
// has when the first page is read (?after=now): only what becomes final after
// that, for a live view that reads the present state elsewhere. A Feed
// resolves it to that position with the first page it reads, so from then
// on its Cursor is a position to store, never FeedNow.
const FeedNow = "now"

// after returns the ?after= of opts.
func (opts FeedOptions) after() string {
	if opts.Cursor != "" {
		return opts.Cursor
	}
	return strconv.FormatInt(opts.After, 10)
}

// TenantEvents returns a page of the caller's tenant's feed (GET
// /v1/events): its events after opts.After (or opts.Cursor), in commit
// order, and with opts.Projections the read model changes they caused;
// NextAfter continues it.
func (c *Client) TenantEvents(ctx context.Context, opts FeedOptions) (api.TenantEventPage, error) {
	q := url.Values{"after": {opts.after()}}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Projections {
		q.Set("include", "projections")
	}
	for _, st := range opts.StreamTypes {
		q.Add("stream_type", string(st))
	}
	for _, t := range opts.Types {
		q.Add("type", string(t))
	}
	var out api.TenantEventPage
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/events", query: q}, &out, 0); err != nil {
		return api.TenantEventPage{}, err
	}
	return out, nil
}

// FeedFrame is one frame of the tenant's feed: an event, or (with
// FeedOptions.Projections) a change of a read model row that the event at
// Position caused. The changes of a position come before its event.
type FeedFrame struct {
	// ID is the frame's id ("41" for an event, "41.1" and "41.2" for its
	// changes): store it with what you made of the frame, and resume with
	// FeedOptions.Cursor.
	ID string
	// Position is the event's feed position.
	Position int64
	// Event is the event; nil for a projection change.
	Event *domain.Event
	// Projection is the change (its Task row or its Usage increment); nil
	// for an event.
	Projection *api.FeedProjection
}

// framesOf returns a page's frames in feed order: each position's changes,
// then its event.
func framesOf(p api.TenantEventPage) []FeedFrame {
	out := make([]FeedFrame, 0, len(p.Events)+len(p.Projections))
	evs, chs := p.Events, p.Projections
	for len(evs) > 0 || len(chs) > 0 {
		if len(chs) > 0 && (len(evs) == 0 || chs[0].Position <= evs[0].Position) {
			out = append(out, FeedFrame{ID: chs[0].ID, Position: chs[0].Position, Projection: &chs[0]})
			chs = chs[1:]
			continue
		}
		out = append(out, FeedFrame{ID: strconv.FormatInt(evs[0].Position, 10), Position: evs[0].Position, Event: &evs[0]})
		evs = evs[1:]
	}
	return out
}

// Feed follows the caller's tenant's feed from a position, page by page,
// waiting when it has caught up and retrying (with backoff) what a server
// or network outage fails: NextFrame yields every frame of the tenant once,
// in commit order, for as long as the context lasts (Next its events
// only). Store Cursor (or LastPosition, for events only) with what you
// made of the frames, and start again from it. Not safe for concurrent
// use.
type Feed struct {
	c       *Client
	ctx     context.Context
	opts    FeedOptions
	page    []FeedFrame
	next    string // the cursor once page is done: the page's next_after
	last    FeedFrame
	retries int
}

// Follow starts following the tenant's feed after opts.After (or
// opts.Cursor).
func (c *Client) Follow(ctx context.Context, opts FeedOptions) *Feed {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultFeedPollInterval
	}
	opts.Cursor = opts.after()
	pos, _, _ := strings.Cut(opts.Cursor, ".")
	last := FeedFrame{ID: opts.Cursor, Position: opts.After}
	if n, err := strconv.ParseInt(pos, 10, 64); err == nil {
		last.Position = n // a malformed cursor is the server's to refuse
	}
	return &Feed{c: c, ctx: ctx, opts: opts, last: last}
}

// Next returns the tenant's next event, waiting for it, and skips the
// projection changes. It returns an error only when the context ends or
// the server refuses the request for good (a 4xx other than 408 and 429).
func (f *Feed) Next() (domain.Event, error) {
	for {
		fr, err := f.NextFrame()
		if err != nil {
			return domain.Event{}, err
		}
		if fr.Event != nil {
			return *fr.Event, nil
		}
	}
}

// NextFrame returns the tenant's next frame, waiting for it. It returns
// an error only when the context ends or the server refuses the request
// for good (a 4xx other than 408 and 429).
func (f *Feed) NextFrame() (FeedFrame, error) {
	for len(f.page) == 0 {
		if f.next != "" {
			f.opts.Cursor, f.next = f.next, ""
		}
		page, err := f.c.TenantEvents(f.ctx, f.opts)
		if err == nil && f.opts.Cursor == FeedNow {
			f.startAt(page)
		}
		var wait time.Duration
		var apiErr *APIError
		switch {
		case f.ctx.Err() != nil:
			return FeedFrame{}, context.Cause(f.ctx)
		case errors.As(err, &apiErr) && !apiErr.retryable():
			return FeedFrame{}, err
		case err != nil:
			f.retries++
			wait = jitteredBackoff(DefaultInitialBackoff, DefaultMaxBackoff, f.retries)
			if apiErr != nil {
				wait = max(wait, apiErr.RetryAfter)
			}
		case len(page.Events) == 0 && len(page.Projections) == 0 && page.NextAfter > f.last.Position:
			f.retries, f.next = 0, strconv.FormatInt(page.NextAfter, 10) // every event read was filtered out
			continue
		case len(page.Events) == 0 && len(page.Projections) == 0:
			f.retries, wait = 0, f.opts.PollInterval
		default:
			f.retries, f.page = 0, framesOf(page)
			f.next = strconv.FormatInt(page.NextAfter, 10)
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-f.ctx.Done():
			t.Stop()
			return FeedFrame{}, context.Cause(f.ctx)
		case <-t.C:
		}
	}
	fr := f.page[0]
	f.page = f.page[1:]
	if !frameAfter(fr, f.last) {
		return FeedFrame{}, fmt.Errorf("%w: the feed went back from frame %s to %s", ErrProtocol, f.last.ID, fr.ID)
	}
	f.last, f.opts.Cursor = fr, fr.ID
	if fr.Event != nil {
		f.opts.After = fr.Position
	}
	return fr, nil
}

// startAt resolves FeedNow with the first page read: the feed's end then
// is just before the page's first frame, or the page's next_after when it
// is empty (as it usually is).
func (f *Feed) startAt(page api.TenantEventPage) {
	end := page.NextAfter
	if frames := framesOf(page); len(frames) > 0 {
		end = frames[0].Position - 1
	}
	f.last = FeedFrame{ID: strconv.FormatInt(end, 10), Position: end}
	f.opts.After, f.opts.Cursor = end, f.last.ID
}

// frameAfter reports whether frame a comes after frame b in feed order.
func frameAfter(a, b FeedFrame) bool {
	if a.Position != b.Position {
		return a.Position > b.Position
	}
	return framePart(a.ID) > framePart(b.ID)
}

// framePart returns the part of a frame id within its position: 1 and 2
// for the changes, 3 for the event (a bare position).
func framePart(id string) int {
	_, part, inside := strings.Cut(id, ".")
	if !inside {
		return 3
	}
	n, _ := strconv.Atoi(part)
	return n
}

// LastPosition returns the position of the last event Next or NextFrame
// returned (FeedOptions.After before the first).
func (f *Feed) LastPosition() int64 { return f.opts.After }

// Cursor returns the id of the last frame NextFrame or Next returned
// (from FeedOptions before the first): store it, and resume with
// FeedOptions.Cursor.
func (f *Feed) Cursor() string { return f.last.ID }
