package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.TenantFeedStore = (*Store)(nil)

// TenantFeedRead implements eventstore.TenantFeedStore: a range of the
// events' (tenant_id, position) index, on the read-only pool. Positions
// are assigned inline, so every event it returns is final.
func (s *Store) TenantFeedRead(ctx context.Context, q eventstore.TenantFeedQuery) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read a tenant's feed: %w", eventstore.ErrClosed)
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	streamTypes, err := jsonArray(q.StreamTypes)
	if err != nil {
		return nil, err
	}
	types, err := jsonArray(q.Types)
	if err != nil {
		return nil, err
	}
	events, err := eventsOf(s.q.TenantFeedRead(ctx, s.rdb, dbsqlc.TenantFeedReadParams{TenantID: q.TenantID, AfterPosition: q.After,
		StreamTypes: streamTypes, Types: types, MaxEvents: int64(engine.ClampLimit(s.opts, q.Limit))}))
	if err != nil {
		return nil, fmt.Errorf("read the feed of tenant %s after %d: %w", q.TenantID, q.After, s.closedOr(err))
	}
	return events, nil
}

// jsonArray renders vs as a JSON array of strings ("[]" for none).
func jsonArray[S ~string](vs []S) (string, error) {
	if vs == nil {
		vs = []S{}
	}
	b, err := json.Marshal(vs)
	return string(b), err
}

// TenantFeedHead implements eventstore.TenantFeedStore: the feed head,
// since every positioned event is in its tenant's slice at once.
func (s *Store) TenantFeedHead(ctx context.Context) (int64, error) { return s.FeedHead(ctx) }

// TenantFeedWait implements eventstore.TenantFeedStore with WaitFeed.
func (s *Store) TenantFeedWait(ctx context.Context, pos int64) error { return s.WaitFeed(ctx, pos) }
