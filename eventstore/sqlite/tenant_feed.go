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
	types := make([]string, len(q.Types))
	for i, t := range q.Types {
		types[i] = string(t)
	}
	arg, err := json.Marshal(types)
	if err != nil {
		return nil, err
	}
	events, err := eventsOf(s.q.TenantFeedRead(ctx, s.rdb, dbsqlc.TenantFeedReadParams{TenantID: q.TenantID, AfterPosition: q.After, StreamType: string(q.StreamType),
		Types: string(arg), MaxEvents: int64(engine.ClampLimit(s.opts, q.Limit))}))
	if err != nil {
		return nil, fmt.Errorf("read the feed of tenant %s after %d: %w", q.TenantID, q.After, s.closedOr(err))
	}
	return events, nil
}
