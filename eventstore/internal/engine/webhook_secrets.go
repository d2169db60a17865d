package engine

import (
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateWebhookSecret checks the arguments of WebhookSecretPut; secret
// nil checks only the id and the version (WebhookSecretGet's). The error
// never holds the secret.
func ValidateWebhookSecret(webhookID string, version int64, secret []byte) error {
	if err := domain.ValidateIdentifier("webhook_id", webhookID); err != nil {
		return err
	}
	if version < 1 {
		return &domain.ValidationError{Field: "version", Reason: fmt.Sprintf("is %d; versions start at 1", version)}
	}
	if secret != nil && (len(secret) == 0 || len(secret) > eventstore.MaxWebhookSecretLen) {
		return &domain.ValidationError{Field: "secret", Reason: fmt.Sprintf("is %d bytes; it must be 1 to %d", len(secret), eventstore.MaxWebhookSecretLen)}
	}
	return nil
}
