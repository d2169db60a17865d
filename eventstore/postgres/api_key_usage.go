package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.APIKeyUsageStore = (*Store)(nil)

// APIKeyUsageTouch implements eventstore.APIKeyUsageStore: one INSERT … ON CONFLICT
// statement over arrays, atomic on its own. Rows are written in key order,
// so concurrent calls (from several API servers) lock shared keys in the
// same order and never deadlock; a row is rewritten only when its time
// moves forward.
func (s *Store) APIKeyUsageTouch(ctx context.Context, uses map[string]time.Time) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	prepared, err := engine.PrepareAPIKeyUses(uses)
	if err != nil {
		return fmt.Errorf("touch API keys: %w", err)
	}
	if len(prepared) == 0 {
		return nil
	}
	p := dbsqlc.APIKeyUsageUpsertParams{
		KeyIds:  make([]string, len(prepared)),
		UsedAts: make([]time.Time, len(prepared)),
	}
	for i, u := range prepared {
		p.KeyIds[i], p.UsedAts[i] = u.KeyID, u.UsedAt
	}
	if err := s.q.APIKeyUsageUpsert(ctx, s.pool, p); err != nil {
		return fmt.Errorf("touch %d API keys: %w", len(prepared), err)
	}
	return nil
}

// APIKeyUsageGet implements eventstore.APIKeyUsageStore: one primary-key look-up.
func (s *Store) APIKeyUsageGet(ctx context.Context, keyIDs []string) (map[string]time.Time, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := engine.ValidateAPIKeyIDs(keyIDs); err != nil {
		return nil, fmt.Errorf("read API key usage: %w", err)
	}
	out := make(map[string]time.Time, len(keyIDs))
	if len(keyIDs) == 0 {
		return out, nil
	}
	rows, err := s.q.APIKeyUsageGet(ctx, s.pool, keyIDs)
	if err != nil {
		return nil, fmt.Errorf("read usage of %d API keys: %w", len(keyIDs), err)
	}
	for _, r := range rows {
		out[r.KeyID] = r.LastUsedAt.UTC()
	}
	return out, nil
}
