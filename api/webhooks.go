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

// WebhookAttempt is one attempt of a delivery.
type WebhookAttempt struct {
	Attempt int  `json:"attempt"`
	At      Time `json:"at"`
	// StatusCode is the receiver's HTTP status; 0 when none came.
	StatusCode int   `json:"status_code"`
	LatencyMS  int64 `json:"latency_ms"`
	// Response is the start of the receiver's answer (at most 1 KiB).
	Response string `json:"response"`
	// Error says why the attempt failed; empty for a success.
	Error string `json:"error"`
}

// WebhookDelivery is one event delivered, or to deliver, to an endpoint.
type WebhookDelivery struct {
	// ID is the webhook-id header of every attempt.
	ID string `json:"id"`
	// Position is the event's place in the feed.
	Position  int64  `json:"position"`
	StreamID  string `json:"stream_id"`
	Seq       int64  `json:"seq"`
	EventType string `json:"event_type"`
	// State is pending, succeeded or failed.
	State string `json:"state"`
	// NextAttemptAt is when a pending delivery is attempted next.
	NextAttemptAt Time             `json:"next_attempt_at"`
	CreatedAt     Time             `json:"created_at"`
	UpdatedAt     Time             `json:"updated_at"`
	Attempts      []WebhookAttempt `json:"attempts"`
}

// WebhookDeliveryList answers GET /v1/webhooks/{id}/deliveries, newest
// first.
type WebhookDeliveryList struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	// NextBefore, when not null, is the before parameter of the next page.
	NextBefore *int64 `json:"next_before"`
}

// RedeliverRequest is the body of POST /v1/webhooks/{id}/redeliver: one
// delivery's id, or a time to redeliver everything since.
type RedeliverRequest struct {
	DeliveryID string `json:"delivery_id,omitempty"`
	Since      Time   `json:"since,omitzero"`
}

// Redelivered answers POST /v1/webhooks/{id}/redeliver.
type Redelivered struct {
	Redelivered int `json:"redelivered"`
}

// TestEventSent answers POST /v1/webhooks/{id}/test: the event asked for
// and the id of its delivery in the delivery log.
type TestEventSent struct {
	EventID    string `json:"event_id"`
	DeliveryID string `json:"delivery_id"`
}
