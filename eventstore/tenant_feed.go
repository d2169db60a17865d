package eventstore

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// MaxTenantFeedTypes bounds the event types of one TenantFeedQuery.
const MaxTenantFeedTypes = 32

// TenantFeedQuery asks for a page of one tenant's slice of the feed.
type TenantFeedQuery struct {
	TenantID string
	// After is the feed position the page starts after; -1 for the start.
	After int64
	// StreamTypes, when not empty, keeps events of streams of these types
	// only.
	StreamTypes []domain.StreamType
	// Types, when not empty, keeps events of these types only.
	Types []domain.EventType
	// Limit bounds the page (the store's read limit for 0).
	Limit int
}

// Validate reports the first field of q that is wrong, as a
// *domain.ValidationError naming its query parameter.
func (q TenantFeedQuery) Validate() error {
	switch {
	case q.TenantID == "":
		return &domain.ValidationError{Field: "tenant_id", Reason: "must not be empty"}
	case q.After < -1:
		return &domain.ValidationError{Field: "after", Reason: "must be a feed position, or -1 for the start"}
	case len(q.Types) > MaxTenantFeedTypes:
		return &domain.ValidationError{Field: "type", Reason: fmt.Sprintf("lists %d types; at most %d", len(q.Types), MaxTenantFeedTypes)}
	}
	for _, st := range q.StreamTypes {
		if !st.Valid() {
			return &domain.ValidationError{Field: "stream_type", Reason: fmt.Sprintf("unknown stream type %q; use task, tenant, api_key or webhook", st)}
		}
	}
	for _, t := range q.Types {
		if !domain.KnownType(t) {
			return &domain.ValidationError{Field: "type", Reason: fmt.Sprintf("unknown event type %q", t)}
		}
	}
	return nil
}

// TenantFeedStore reads one tenant's slice of the global feed, in position
// (commit) order: what GET /v1/events serves. An event is in the slice
// once its position is final, so a reader that resumes after the last
// position it saw misses nothing and sees nothing twice. Both engines'
// stores implement it (Postgres through an index that a projection runner
// keeps, see postgres.Store.TenantFeedIndex; SQLite directly);
// eventstore/storetest.RunTenantFeed is its conformance suite.
type TenantFeedStore interface {
	// TenantFeedRead returns up to q.Limit of q.TenantID's events with
	// position above q.After that match q's filters, in position order.
	// An invalid q is a *domain.ValidationError.
	TenantFeedRead(ctx context.Context, q TenantFeedQuery) ([]domain.Event, error)
	// TenantFeedHead returns the position below which every tenant's
	// slice is final: a TenantFeedRead that starts after it returns sees
	// every event of the slice at a position below it (on SQLite the feed
	// head; on Postgres the next position the index will apply).
	TenantFeedHead(ctx context.Context) (int64, error)
	// TenantFeedWait blocks until TenantFeedHead is above pos, or ctx
	// ends (then it returns ctx's error). It waits without polling: the
	// store wakes every waiter of the process when the slices grow, so an
	// idle waiter costs a goroutine and nothing else.
	TenantFeedWait(ctx context.Context, pos int64) error
}
