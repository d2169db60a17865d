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
func (s *Store) WebhookSecretPut(ctx context.Context, webhookID, secretID string, secret []byte) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := engine.ValidateWebhookSecret(webhookID, secretID, secret); err != nil {
		return fmt.Errorf("store webhook secret: %w", err)
	}
	n, err := s.q.WebhookSecretInsert(ctx, s.pool, dbsqlc.WebhookSecretInsertParams{WebhookID: webhookID, SecretID: secretID, Secret: secret})
	if err != nil {
		return fmt.Errorf("store secret %s of webhook %s: %w", secretID, webhookID, err)
	}
	if n == 0 {
		return fmt.Errorf("store secret %s of webhook %s: %w", secretID, webhookID, eventstore.ErrSecretIDTaken)
	}
	return nil
}

// WebhookSecretGet implements eventstore.WebhookSecretStore.
func (s *Store) WebhookSecretGet(ctx context.Context, webhookID string, secretIDs []string) (map[string][]byte, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	for _, id := range secretIDs {
		if err := engine.ValidateWebhookSecret(webhookID, id, nil); err != nil {
			return nil, fmt.Errorf("read webhook secrets: %w", err)
		}
	}
	rows, err := s.q.WebhookSecretGet(ctx, s.pool, dbsqlc.WebhookSecretGetParams{WebhookID: webhookID, SecretIds: secretIDs})
	if err != nil {
		return nil, fmt.Errorf("read secrets of webhook %s: %w", webhookID, err)
	}
	out := make(map[string][]byte, len(rows))
	for _, r := range rows {
		out[r.SecretID] = r.Secret
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
