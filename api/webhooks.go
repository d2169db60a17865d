package api

import (
	"fmt"
	"log/slog"
)

// CreateWebhookRequest is the body of POST /v1/webhooks.
type CreateWebhookRequest struct {
	URL string `json:"url"`
	// Events are the patterns of the event types delivered ("task.*",
	// "task.succeeded", "*"); empty or absent means "*". task.output is
	// delivered only when named.
	Events      []string `json:"events,omitempty"`
	Description string   `json:"description,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// ChangeWebhookRequest is the body of PATCH /v1/webhooks/{id}: the fields
// present replace the endpoint's, the others stay.
type ChangeWebhookRequest struct {
	URL         *string   `json:"url,omitempty"`
	Events      *[]string `json:"events,omitempty"`
	Description *string   `json:"description,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

// Webhook describes a webhook endpoint. String and LogValue leave its
// secret out.
type Webhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events is never null.
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why deliveries stopped without a request (the
	// receiver answered 410 Gone, or failed for days); empty otherwise.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Secret is the signing secret (whsec_…), there only in the answers of
	// POST /v1/webhooks and POST /v1/webhooks/{id}/rotate-secret, once: a
	// secret, to store as one.
	Secret string `json:"secret,omitempty"`
	// PreviousSecretValidUntil is, in the answer of rotate-secret, until
	// when the previous secret signs beside the new one.
	PreviousSecretValidUntil Time   `json:"previous_secret_valid_until,omitzero"`
	CreatedBy                string `json:"created_by"`
	CreatedAt                Time   `json:"created_at"`
	UpdatedAt                Time   `json:"updated_at"`
}

// String describes w without its secret, so that printing or logging it
// leaks nothing.
func (w Webhook) String() string {
	return fmt.Sprintf("{webhook %s to %s, events %v, enabled %t, secret redacted}", w.ID, w.URL, w.Events, w.Enabled)
}

// LogValue logs w as String does (slog.LogValuer).
func (w Webhook) LogValue() slog.Value { return slog.StringValue(w.String()) }

// WebhookList answers GET /v1/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}
