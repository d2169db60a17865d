package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.APIKeyUsageStore = (*Store)(nil)

// APIKeyUsageTouch implements eventstore.APIKeyUsageStore: one statement, hence one write
// transaction, on the writer connection, so it queues with appends for the
// writer for as long as ctx allows. Times are stored as unix microseconds.
func (s *Store) APIKeyUsageTouch(ctx context.Context, uses map[string]time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("touch API keys: %w", eventstore.ErrClosed)
	}
	prepared, err := engine.PrepareAPIKeyUses(uses)
	if err != nil {
		return fmt.Errorf("touch API keys: %w", err)
	}
	if len(prepared) == 0 {
		return nil
	}
	micros := make(map[string]int64, len(prepared))
	for _, u := range prepared {
		micros[u.KeyID] = u.UsedAt.UnixMicro()
	}
	arg, err := json.Marshal(micros)
	if err != nil {
		return fmt.Errorf("touch %d API keys: encode: %w", len(prepared), err)
	}
	if err := s.write(ctx, func(db dbsqlc.DBTX) error { return s.q.APIKeyUsageUpsert(ctx, db, string(arg)) }); err != nil {
		return fmt.Errorf("touch %d API keys: %w", len(prepared), err)
	}
	return nil
}

// APIKeyUsageGet implements eventstore.APIKeyUsageStore. It runs on the read-only
// pool and never waits for the writer.
func (s *Store) APIKeyUsageGet(ctx context.Context, keyIDs []string) (map[string]time.Time, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read API key usage: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateAPIKeyIDs(keyIDs); err != nil {
		return nil, fmt.Errorf("read API key usage: %w", err)
	}
	out := make(map[string]time.Time, len(keyIDs))
	if len(keyIDs) == 0 {
		return out, nil
	}
	if err := s.apiKeysLastUsed(ctx, keyIDs, out); err != nil {
		return nil, fmt.Errorf("read usage of %d API keys: %w", len(keyIDs), s.closedOr(err))
	}
	return out, nil
}

func (s *Store) apiKeysLastUsed(ctx context.Context, keyIDs []string, out map[string]time.Time) error {
	ids, err := json.Marshal(keyIDs)
	if err != nil {
		return fmt.Errorf("encode key ids: %w", err)
	}
	rows, err := s.q.APIKeyUsageGet(ctx, s.rdb, string(ids))
	if err != nil {
		return err
	}
	for _, r := range rows {
		out[r.KeyID] = time.UnixMicro(r.LastUsedAt).UTC()
	}
	return nil
}
