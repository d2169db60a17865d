package sqlite

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ListStreams implements eventstore.Store. It runs on the read-only pool,
// never waits for the writer, and lists every stream whose creating Append
// has returned. One query, an index range of events_tenant_type_stream_idx
// (one entry per stream: its first event), in the index's order.
func (s *Store) ListStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list streams: %w", eventstore.ErrClosed)
	}
	limit, err := eventstore.ValidateListStreams(tenantID, streamType, afterStreamID, limit)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	ids, err := s.listStreams(ctx, tenantID, streamType, afterStreamID, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s streams of %s: %w", streamType, tenantID, s.closedOr(err))
	}
	return ids, nil
}

func (s *Store) listStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error) {
	rows, err := s.r.listStreams.QueryContext(ctx, tenantID, string(streamType), afterStreamID, limit)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
