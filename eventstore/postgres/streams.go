package postgres

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// ListStreams implements eventstore.Store. It reads the events table, not
// the ledger, so a stream is listed as soon as the Append that created it
// has returned. One query, an index range of events_tenant_type_stream_idx
// (one entry per stream: its first event), in the index's order; ids sort
// in byte order whatever the database's collation.
func (s *Store) ListStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	limit, err := engine.ValidateListStreams(tenantID, streamType, afterStreamID, limit)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	ids, err := s.q.StreamsList(ctx, s.pool, dbsqlc.StreamsListParams{
		TenantID: tenantID, StreamType: string(streamType), AfterStreamID: afterStreamID, MaxStreams: int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list %s streams of %s: %w", streamType, tenantID, err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}
