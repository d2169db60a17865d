package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// RedeliverWebhook delivers again, to an endpoint of the principal's
// tenant, one delivery (DeliveryID) or every delivery made since Since.
type RedeliverWebhook struct {
	By         Principal
	WebhookID  string
	DeliveryID string
	Since      time.Time
}

// RedeliverWebhookHandler handles RedeliverWebhook. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type RedeliverWebhookHandler struct{ d *webhookDeps }

// Handle makes the deliveries pending again, due now, in their feed order
// before the endpoint's newer ones, and returns how many. A delivery being
// sent at that moment is left to end and not counted. Exactly one of
// DeliveryID and Since must be set (a *domain.ValidationError otherwise);
// an endpoint of another tenant is ErrWebhookNotFound.
func (h *RedeliverWebhookHandler) Handle(ctx context.Context, cmd RedeliverWebhook) (int, error) {
	if err := cmd.By.require(domain.ActionManageWebhooks); err != nil {
		return 0, err
	}
	if (cmd.DeliveryID == "") == cmd.Since.IsZero() {
		return 0, &domain.ValidationError{Field: "delivery_id", Reason: "or since must be set, not both: one delivery's id (msg_…), or a time to redeliver everything since"}
	}
	if _, _, err := h.d.load(ctx, cmd.By, cmd.WebhookID); err != nil {
		return 0, err
	}
	return h.d.cfg.Deliveries.WebhookDeliveryRetry(ctx, cmd.WebhookID, cmd.DeliveryID, cmd.Since, h.d.cfg.NowFunc())
}
