package eventstore

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// Limits of WebhookDeliveryStore.
const (
	// MaxWebhookResponseExcerpt bounds the response excerpt an attempt
	// keeps, in bytes.
	MaxWebhookResponseExcerpt = 1024
	// MaxWebhookDeliveriesListed bounds one WebhookDeliveryList page.
	MaxWebhookDeliveriesListed = 500
)

// DeliveryState is where a webhook delivery stands.
type DeliveryState string

// Delivery states.
const (
	// DeliveryPending: not delivered yet; attempted at NextAttemptAt.
	DeliveryPending DeliveryState = "pending"
	// DeliverySucceeded: a receiver answered 2xx.
	DeliverySucceeded DeliveryState = "succeeded"
	// DeliveryFailed: every attempt of the schedule failed, the receiver
	// answered 410 Gone, or the endpoint was disabled or deleted.
	DeliveryFailed DeliveryState = "failed"
)

// WebhookEndpoint is what the dispatcher knows of an endpoint: whose it is
// and which events it takes.
type WebhookEndpoint struct {
	WebhookID string
	TenantID  string
	// Events is the endpoint's filter (domain.EventFilter).
	Events []string
	// Active is false for a disabled or deleted endpoint: no delivery is
	// queued for it.
	Active bool
}

// WebhookDelivery is one event to deliver to one endpoint.
type WebhookDelivery struct {
	// ID is the webhook-id header: stable per event and endpoint, so that
	// receivers can tell a retry from a new delivery.
	ID        string
	WebhookID string
	TenantID  string
	// Position is the event's feed position; an endpoint's deliveries are
	// made in position order.
	Position  int64
	StreamID  string
	Seq       int64
	EventType domain.EventType
	State     DeliveryState
	// Attempts counts the attempts made.
	Attempts int
	// NextAttemptAt is when a pending delivery is attempted next.
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// LastStatus is the last attempt's HTTP status (0: no answer).
	LastStatus int
	// LastError is the last attempt's error, empty after a success.
	LastError string
}

// WebhookAttempt is one attempt of a delivery, as the delivery log shows it.
type WebhookAttempt struct {
	DeliveryID string
	// Attempt is 1 for the first attempt, 2 for the next …
	Attempt int
	At      time.Time
	// StatusCode is the receiver's HTTP status; 0 when none came.
	StatusCode int
	Latency    time.Duration
	// Response is the start of the receiver's body, at most
	// MaxWebhookResponseExcerpt bytes.
	Response string
	// Error says why the attempt failed (a refused address, a timeout …).
	Error string
}

// WebhookDeliveryStore keeps webhook deliveries: the dispatcher's endpoint
// list, the queue of deliveries with its checkpoint in the feed, and the
// delivery log. It is operational state beside the log (see Store). Both
// engines' stores implement it; eventstore/storetest.RunWebhookDeliveries
// is its conformance suite.
type WebhookDeliveryStore interface {
	// WebhookDispatchCheckpoint returns the next feed position the
	// dispatcher named name will read (0 before its first batch).
	WebhookDispatchCheckpoint(ctx context.Context, name string) (int64, error)

	// WebhookDispatchApply stores, in one transaction, the endpoints'
	// changes (upserted by WebhookID), the deliveries (one already stored
	// with the same ID is left alone) and the checkpoint, moved from from
	// to to. When the checkpoint is not at from it changes nothing and
	// fails with an error that errors.Is projections.ErrCheckpointMoved.
	WebhookDispatchApply(ctx context.Context, name string, from, to int64, endpoints []WebhookEndpoint, deliveries []WebhookDelivery) error

	// WebhookEndpointList returns every endpoint the dispatcher stored.
	WebhookEndpointList(ctx context.Context) ([]WebhookEndpoint, error)

	// WebhookDeliveryClaim returns up to limit deliveries due at now,
	// each the pending delivery of lowest position of its endpoint, that no
	// claim holds, and holds them until leaseUntil: a later delivery of an
	// endpoint is never claimed before the earlier one ends, no delivery of
	// an endpoint is claimed while another of its deliveries is (one
	// request at a time per endpoint, a redelivered one included), and of
	// concurrent claims (several processes) only one gets a delivery.
	WebhookDeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]WebhookDelivery, error)

	// WebhookDeliveryRecord stores an attempt and the delivery's new state
	// (and, when pending, its next attempt's time) in one transaction, and
	// ends the delivery's claim. In the same transaction it keeps the
	// endpoint's run of failures (WebhookEndpointFailingSince): a success
	// ends it; a failed attempt begins one unless one is running that
	// began at or after enabledAt, when the endpoint was last enabled
	// (failures before it do not count). Recording attempt n again is a
	// no-op.
	WebhookDeliveryRecord(ctx context.Context, a WebhookAttempt, state DeliveryState, nextAttemptAt, enabledAt time.Time) error

	// WebhookEndpointFailingSince returns since when every attempt to the
	// endpoint has failed: the first failure after its last success (or
	// ever); zero when its last attempt succeeded, none failed, or the
	// dispatcher does not know the endpoint.
	WebhookEndpointFailingSince(ctx context.Context, webhookID string) (time.Time, error)

	// WebhookDeliveryRetry makes the deliveries of endpoint webhookID
	// created at or after since (only the one of id, when id is set)
	// pending again, due at now, and returns how many. A delivery in
	// flight (claimed) is left alone. A redelivered delivery keeps its
	// attempts: it is retried on what is left of the schedule.
	WebhookDeliveryRetry(ctx context.Context, webhookID, id string, since, now time.Time) (int, error)

	// WebhookDeliveryList returns up to limit (at most
	// MaxWebhookDeliveriesListed) deliveries of an endpoint with position
	// below beforePosition, newest first.
	WebhookDeliveryList(ctx context.Context, webhookID string, beforePosition int64, limit int) ([]WebhookDelivery, error)

	// WebhookAttemptList returns the attempts of deliveries, by delivery
	// id, in attempt order.
	WebhookAttemptList(ctx context.Context, deliveryIDs []string) (map[string][]WebhookAttempt, error)

	// WebhookDeliveryTenantsEnded returns up to limit tenants, in id order
	// after afterTenantID, that have deliveries which ended (succeeded or
	// failed) before endedBefore: the retention job's list.
	WebhookDeliveryTenantsEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error)

	// WebhookDeliveryPrune deletes the tenant's deliveries that ended
	// before endedBefore, with their attempts, in one transaction, and
	// returns how many. Pending deliveries stay.
	WebhookDeliveryPrune(ctx context.Context, tenantID string, endedBefore time.Time) (int, error)
}
