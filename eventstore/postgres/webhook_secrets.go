package postgres

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.WebhookSecretStore = (*Store)(nil)

// WebhookSecretPut implements eventstore.WebhookSecretStore: one INSERT …
// ON CONFLICT DO NOTHING.
func (s *Store) WebhookSecretPut(ctx context.Context, webhookID string, version int64, secret []byte) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := engine.ValidateWebhookSecret(webhookID, version, secret); err != nil {
		return fmt.Errorf("store webhook secret: %w", err)
	}
	n, err := s.q.WebhookSecretInsert(ctx, s.pool, dbsqlc.WebhookSecretInsertParams{WebhookID: webhookID, Version: version, Secret: secret})
	if err != nil {
		return fmt.Errorf("store secret %d of webhook %s: %w", version, webhookID, err)
	}
	if n == 0 {
		return fmt.Errorf("store secret %d of webhook %s: %w", version, webhookID, eventstore.ErrSecretVersionTaken)
	}
	return nil
}

// WebhookSecretGet implements eventstore.WebhookSecretStore.
func (s *Store) WebhookSecretGet(ctx context.Context, webhookID string, versions []int64) (map[int64][]byte, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	for _, v := range versions {
		if err := engine.ValidateWebhookSecret(webhookID, v, nil); err != nil {
			return nil, fmt.Errorf("read webhook secrets: %w", err)
		}
	}
	rows, err := s.q.WebhookSecretGet(ctx, s.pool, dbsqlc.WebhookSecretGetParams{WebhookID: webhookID, Versions: versions})
	if err != nil {
		return nil, fmt.Errorf("read secrets of webhook %s: %w", webhookID, err)
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
		return eventstore.ErrClosed
	}
	if err := s.q.WebhookSecretDelete(ctx, s.pool, webhookID); err != nil {
		return fmt.Errorf("delete secrets of webhook %s: %w", webhookID, err)
	}
	return nil
}
