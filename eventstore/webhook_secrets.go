package eventstore

import "context"

// MaxWebhookSecretLen bounds a webhook signing secret, in bytes.
const MaxWebhookSecretLen = 64

// WebhookSecretStore keeps webhook endpoints' signing secrets, by endpoint
// id and secret id: one port of the operational state beside the log (see
// Store). Secrets are in no hash chain, no feed and no export, since whoever
// holds one can forge deliveries; the webhook events name the id of the
// secret that signs. Both engines' stores implement it;
// eventstore/storetest.RunWebhookSecrets is its conformance suite.
type WebhookSecretStore interface {
	// WebhookSecretPut stores secret (1 to MaxWebhookSecretLen bytes) under
	// secretID (a random id the caller makes) for endpoint webhookID. It is
	// stored before the event that names it is appended, so a secret whose
	// event never made it is left unused, never wrong. An id is written
	// once: when it is stored already it fails with ErrSecretIDTaken and
	// keeps the stored secret. An invalid argument is a
	// *domain.ValidationError.
	WebhookSecretPut(ctx context.Context, webhookID, secretID string, secret []byte) error

	// WebhookSecretGet returns the stored secrets of the endpoint by id;
	// ids never stored (or deleted) are absent from the map. It sees every
	// WebhookSecretPut that has returned.
	WebhookSecretGet(ctx context.Context, webhookID string, secretIDs []string) (map[string][]byte, error)

	// WebhookSecretDelete deletes every secret of the endpoint (when it is
	// deleted); deleting none is no error.
	WebhookSecretDelete(ctx context.Context, webhookID string) error
}
