package sqlite

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// ListStreams implements eventstore.Store. It runs on the read-only pool,
// never waits for the writer, and lists every stream whose creating Append
// has returned. One query, an index range of events_tenant_type_stream_idx
// (one entry per stream: its first event), in the index's order.
func (s *Store) ListStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list streams: %w", eventstore.ErrClosed)
	}
	limit, err := engine.ValidateListStreams(tenantID, streamType, afterStreamID, limit)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	ids, err := orEmpty(s.q.StreamsList(ctx, s.rdb, dbsqlc.StreamsListParams{
		TenantID: tenantID, StreamType: string(streamType), AfterStreamID: afterStreamID, MaxStreams: int64(limit),
	}))
	if err != nil {
		return nil, fmt.Errorf("list %s streams of %s: %w", streamType, tenantID, s.closedOr(err))
	}
	return ids, nil
}
