package domain

// Webhook event types. Like every event type they are hashed into the chain
// and never renamed.
const (
	WebhookCreatedType       EventType = "webhook.created"
	WebhookChangedType       EventType = "webhook.changed"
	WebhookSecretRotatedType EventType = "webhook.secret_rotated"
	WebhookDisabledType      EventType = "webhook.disabled"
	WebhookDeletedType       EventType = "webhook.deleted"
	// WebhookTestRequestedType is delivered to its own endpoint only,
	// whatever the endpoint's filter: the "send test event" call.
	WebhookTestRequestedType EventType = "webhook.test_requested"
)

// Webhook payloads never hold a signing secret: secrets are operational
// state beside the log (eventstore.WebhookSecretStore), found by the
// endpoint's id and the secret id these events name, so that an export of
// the log gives nobody the means to forge a delivery. Fields are listed in
// RFC 8785 order, as in task_events.go.

// WebhookCreated is the first event of a webhook stream: an endpoint of the
// stream's tenant, signing with the secret SecretID names.
type WebhookCreated struct {
	CreatedBy   string   `json:"created_by"`
	Description string   `json:"description,omitempty"`
	Enabled     bool     `json:"enabled"`
	Events      []string `json:"events"`
	SecretID    string   `json:"secret_id"`
	URL         string   `json:"url"`
}

// EventType returns WebhookCreatedType.
func (WebhookCreated) EventType() EventType { return WebhookCreatedType }

// WebhookChanged replaces an endpoint's settings, all of them: the URL, the
// event filter, the description and the enabled flag.
type WebhookChanged struct {
	ChangedBy   string   `json:"changed_by"`
	Description string   `json:"description,omitempty"`
	Enabled     bool     `json:"enabled"`
	Events      []string `json:"events"`
	URL         string   `json:"url"`
}

// EventType returns WebhookChangedType.
func (WebhookChanged) EventType() EventType { return WebhookChangedType }

// WebhookSecretRotated makes the secret SecretID names the endpoint's
// signing secret; the one before it still signs until PreviousValidUntil
// (the form of FormatTime), so receivers can switch without losing a
// delivery.
type WebhookSecretRotated struct {
	PreviousValidUntil string `json:"previous_valid_until"`
	RotatedBy          string `json:"rotated_by"`
	SecretID           string `json:"secret_id"`
}

// EventType returns WebhookSecretRotatedType.
func (WebhookSecretRotated) EventType() EventType { return WebhookSecretRotatedType }

// WebhookDisabled turns an endpoint off without an operator's request: its
// receiver answered 410 Gone, or failed every delivery for days. Reason
// says which, for the tenant; a WebhookChanged may enable it again.
type WebhookDisabled struct {
	Reason string `json:"reason"`
}

// EventType returns WebhookDisabledType.
func (WebhookDisabled) EventType() EventType { return WebhookDisabledType }

// WebhookTestRequested asks for a delivery to the endpoint, to check the
// receiver: it is delivered to its own endpoint alone.
type WebhookTestRequested struct {
	RequestedBy string `json:"requested_by"`
}

// EventType returns WebhookTestRequestedType.
func (WebhookTestRequested) EventType() EventType { return WebhookTestRequestedType }

// WebhookDeleted ends an endpoint; nothing follows it.
type WebhookDeleted struct {
	DeletedBy string `json:"deleted_by"`
}

// EventType returns WebhookDeletedType.
func (WebhookDeleted) EventType() EventType { return WebhookDeletedType }
