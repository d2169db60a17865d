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
func (s *Store) WebhookSecretPut(ctx context.Context, webhookID, secretID string, secret []byte) error {
	if s.closed.Load() {
		return fmt.Errorf("store webhook secret: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateWebhookSecret(webhookID, secretID, secret); err != nil {
		return fmt.Errorf("store webhook secret: %w", err)
	}
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.WebhookSecretInsert(ctx, db, dbsqlc.WebhookSecretInsertParams{WebhookID: webhookID, SecretID: secretID, Secret: secret})
		return err
	})
	if err == nil && n == 0 {
		err = eventstore.ErrSecretIDTaken
	}
	if err != nil {
		return fmt.Errorf("store secret %s of webhook %s: %w", secretID, webhookID, err)
	}
	return nil
}

// WebhookSecretGet implements eventstore.WebhookSecretStore. It runs on the
// read-only pool and never waits for the writer.
func (s *Store) WebhookSecretGet(ctx context.Context, webhookID string, secretIDs []string) (map[string][]byte, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read webhook secrets: %w", eventstore.ErrClosed)
	}
	for _, id := range secretIDs {
		if err := engine.ValidateWebhookSecret(webhookID, id, nil); err != nil {
			return nil, fmt.Errorf("read webhook secrets: %w", err)
		}
	}
	arg, err := json.Marshal(secretIDs)
	if err != nil {
		return nil, fmt.Errorf("read secrets of webhook %s: encode: %w", webhookID, err)
	}
	rows, err := s.q.WebhookSecretGet(ctx, s.rdb, dbsqlc.WebhookSecretGetParams{WebhookID: webhookID, SecretIds: string(arg)})
	if err != nil {
		return nil, fmt.Errorf("read secrets of webhook %s: %w", webhookID, s.closedOr(err))
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
		return fmt.Errorf("delete webhook secrets: %w", eventstore.ErrClosed)
	}
	if err := s.write(ctx, func(db dbsqlc.DBTX) error { return s.q.WebhookSecretDelete(ctx, db, webhookID) }); err != nil {
		return fmt.Errorf("delete secrets of webhook %s: %w", webhookID, err)
	}
	return nil
}
