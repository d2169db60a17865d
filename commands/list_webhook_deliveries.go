package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// DefaultDeliveriesLimit is the deliveries of one page of the delivery log
// by default.
const DefaultDeliveriesLimit = 50

// ListWebhookDeliveries asks for the delivery log of an endpoint of the
// principal's tenant, newest first: the deliveries with position below
// Before (all when 0), at most Limit (DefaultDeliveriesLimit when 0, at
// most eventstore.MaxWebhookDeliveriesListed). It is a query.
type ListWebhookDeliveries struct {
	By        Principal
	WebhookID string
	Before    int64
	Limit     int
}

// DeliveryInfo is a delivery with its attempts.
type DeliveryInfo struct {
	eventstore.WebhookDelivery
	Attempts []eventstore.WebhookAttempt
}

// ListWebhookDeliveriesHandler answers ListWebhookDeliveries. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type ListWebhookDeliveriesHandler struct{ d *webhookDeps }

// Handle returns the page of the log; an endpoint of another tenant is
// ErrWebhookNotFound.
func (h *ListWebhookDeliveriesHandler) Handle(ctx context.Context, q ListWebhookDeliveries) ([]DeliveryInfo, error) {
	if err := q.By.require(domain.ActionManageWebhooks); err != nil {
		return nil, err
	}
	if _, _, err := h.d.load(ctx, q.By, q.WebhookID); err != nil {
		return nil, err
	}
	if q.Before <= 0 {
		q.Before = 1 << 62
	}
	if q.Limit <= 0 {
		q.Limit = DefaultDeliveriesLimit
	}
	list, err := h.d.cfg.Deliveries.WebhookDeliveryList(ctx, q.WebhookID, q.Before, min(q.Limit, eventstore.MaxWebhookDeliveriesListed))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, d := range list {
		ids[i] = d.ID
	}
	attempts, err := h.d.cfg.Deliveries.WebhookAttemptList(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryInfo, len(list))
	for i, d := range list {
		out[i] = DeliveryInfo{WebhookDelivery: d, Attempts: attempts[d.ID]}
	}
	return out, nil
}
