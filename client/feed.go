package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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
	// Limit bounds a page (0: the server's default, 100).
	Limit int
	// StreamTypes and Types keep events of these stream types and types
	// only (none: every one the credential may read).
	StreamTypes []domain.StreamType
	Types       []domain.EventType
	// PollInterval is how long a Feed waits after an empty page (default
	// DefaultFeedPollInterval).
	PollInterval time.Duration
}

// TenantEvents returns a page of the caller's tenant's feed (GET
// /v1/events): its events after opts.After, in commit order; NextAfter
// continues it.
func (c *Client) TenantEvents(ctx context.Context, opts FeedOptions) (api.TenantEventPage, error) {
	q := url.Values{"after": {strconv.FormatInt(opts.After, 10)}}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
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

// Feed follows the caller's tenant's feed from a position, page by page,
// waiting when it has caught up and retrying (with backoff) what a server
// or network outage fails: Next yields every event of the tenant once, in
// commit order, for as long as the context lasts. Store LastPosition with
// what you made of the events, and start again After it. Not safe for
// concurrent use.
type Feed struct {
	c       *Client
	ctx     context.Context
	opts    FeedOptions
	page    []domain.Event
	retries int
}

// Follow starts following the tenant's feed after opts.After.
func (c *Client) Follow(ctx context.Context, opts FeedOptions) *Feed {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultFeedPollInterval
	}
	return &Feed{c: c, ctx: ctx, opts: opts}
}

// Next returns the tenant's next event, waiting for it. It returns an
// error only when the context ends or the server refuses the request for
// good (a 4xx other than 408 and 429).
func (f *Feed) Next() (domain.Event, error) {
	for len(f.page) == 0 {
		page, err := f.c.TenantEvents(f.ctx, f.opts)
		var wait time.Duration
		var apiErr *APIError
		switch {
		case f.ctx.Err() != nil:
			return domain.Event{}, context.Cause(f.ctx)
		case errors.As(err, &apiErr) && !apiErr.retryable():
			return domain.Event{}, err
		case err != nil:
			f.retries++
			wait = jitteredBackoff(DefaultInitialBackoff, DefaultMaxBackoff, f.retries)
			if apiErr != nil {
				wait = max(wait, apiErr.RetryAfter)
			}
		case len(page.Events) == 0:
			f.retries, wait = 0, f.opts.PollInterval
		default:
			f.retries, f.page = 0, page.Events
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-f.ctx.Done():
			t.Stop()
			return domain.Event{}, context.Cause(f.ctx)
		case <-t.C:
		}
	}
	e := f.page[0]
	f.page = f.page[1:]
	if e.Position <= f.opts.After {
		return domain.Event{}, fmt.Errorf("%w: the feed went back from position %d to %d", ErrProtocol, f.opts.After, e.Position)
	}
	f.opts.After = e.Position
	return e, nil
}

// LastPosition returns the position of the last event Next returned
// (FeedOptions.After before the first).
func (f *Feed) LastPosition() int64 { return f.opts.After }
