package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.WebhookSecretStore = (*Store)(nil)

// WebhookSecretPut implements eventstore.WebhookSecretStore: one statement
// on the writer connection.
func (s *Store) WebhookSecretPut(ctx context.Context, webhookID string, version int64, secret []byte) error {
	if s.closed.Load() {
		return fmt.Errorf("store webhook secret: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateWebhookSecret(webhookID, version, secret); err != nil {
		return fmt.Errorf("store webhook secret: %w", err)
	}
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.WebhookSecretInsert(ctx, db, dbsqlc.WebhookSecretInsertParams{WebhookID: webhookID, Version: version, Secret: secret})
		return err
	})
	if err == nil && n == 0 {
		err = eventstore.ErrSecretVersionTaken
	}
	if err != nil {
		return fmt.Errorf("store secret %d of webhook %s: %w", version, webhookID, err)
	}
	return nil
}

// WebhookSecretGet implements eventstore.WebhookSecretStore. It runs on the
// read-only pool and never waits for the writer.
func (s *Store) WebhookSecretGet(ctx context.Context, webhookID string, versions []int64) (map[int64][]byte, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read webhook secrets: %w", eventstore.ErrClosed)
	}
	for _, v := range versions {
		if err := engine.ValidateWebhookSecret(webhookID, v, nil); err != nil {
			return nil, fmt.Errorf("read webhook secrets: %w", err)
		}
	}
	arg, err := json.Marshal(versions)
	if err != nil {
		return nil, fmt.Errorf("read secrets of webhook %s: encode: %w", webhookID, err)
	}
	rows, err := s.q.WebhookSecretGet(ctx, s.rdb, dbsqlc.WebhookSecretGetParams{WebhookID: webhookID, Versions: string(arg)})
	if err != nil {
		return nil, fmt.Errorf("read secrets of webhook %s: %w", webhookID, s.closedOr(err))
	}
	out := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		out[r.Version] = r.Secret
	}
	return out, nil
}

// WebhookSecretDelete implements eventstore.WebhookSecretStore.
func (s *Store) WebhookSecretDelete(ctx context.Context, webhookID string) error {
	if s.closed.Load() {
		return fmt.Errorf("delete webhook secrets: %w", eventstore.ErrClosed)
	}
	if err := s.write(ctx, func(db dbsqlc.DBTX) error { return s.q.WebhookSecretDelete(ctx, db, webhookID) }); err != nil {
		return fmt.Errorf("delete secrets of webhook %s: %w", webhookID, err)
	}
	return nil
}
