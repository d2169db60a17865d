package eventstore

import "context"

// MaxWebhookSecretLen bounds a webhook signing secret, in bytes.
const MaxWebhookSecretLen = 64

// WebhookSecretStore keeps webhook endpoints' signing secrets, by endpoint
// id and version: one port of the operational state beside the log (see
// Store). Secrets are in no hash chain, no feed and no export, since whoever
// holds one can forge deliveries; the webhook events name the version that
// signs. Both engines' stores implement it;
// eventstore/storetest.RunWebhookSecrets is its conformance suite.
type WebhookSecretStore interface {
	// WebhookSecretPut stores secret (1 to MaxWebhookSecretLen bytes) as
	// version (1, 2, …) of endpoint webhookID's secrets. A version is
	// written once: when it is stored already it fails with
	// ErrSecretVersionTaken and keeps the stored one, so that of two
	// concurrent rotations only one shows its secret. An invalid argument
	// is a *domain.ValidationError.
	WebhookSecretPut(ctx context.Context, webhookID string, version int64, secret []byte) error

	// WebhookSecretGet returns the stored secrets of the endpoint's
	// versions; versions never stored (or deleted) are absent from the map.
	// It sees every WebhookSecretPut that has returned.
	WebhookSecretGet(ctx context.Context, webhookID string, versions []int64) (map[int64][]byte, error)

	// WebhookSecretDelete deletes every secret of the endpoint (when it is
	// deleted); deleting none is no error.
	WebhookSecretDelete(ctx context.Context, webhookID string) error
}
