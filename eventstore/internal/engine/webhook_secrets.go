package engine

import (
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateWebhookSecret checks the arguments of WebhookSecretPut; secret
// nil checks only the ids (WebhookSecretGet's). The error never holds the
// secret.
func ValidateWebhookSecret(webhookID, secretID string, secret []byte) error {
	if err := domain.ValidateIdentifier("webhook_id", webhookID); err != nil {
		return err
	}
	if err := domain.ValidateIdentifier("secret_id", secretID); err != nil {
		return err
	}
	if secret != nil && (len(secret) == 0 || len(secret) > eventstore.MaxWebhookSecretLen) {
		return &domain.ValidationError{Field: "secret", Reason: fmt.Sprintf("is %d bytes; it must be 1 to %d", len(secret), eventstore.MaxWebhookSecretLen)}
	}
	return nil
}
