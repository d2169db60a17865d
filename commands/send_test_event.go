package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// SendTestEvent asks for a test delivery to an endpoint of the principal's
// tenant.
type SendTestEvent struct {
	By        Principal
	WebhookID string
	Meta      domain.Metadata
}

// SendTestEventHandler handles SendTestEvent. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type SendTestEventHandler struct{ d *webhookDeps }

// Handle appends webhook.test_requested, which is delivered to this
// endpoint alone whatever its filter, through the same queue, signature
// and log as every delivery, and returns the event's id. An endpoint of
// another tenant is ErrWebhookNotFound.
func (h *SendTestEventHandler) Handle(ctx context.Context, cmd SendTestEvent) (uuid.UUID, error) {
	if err := cmd.By.require(domain.ActionManageWebhooks); err != nil {
		return uuid.Nil, err
	}
	w, stream, err := h.d.load(ctx, cmd.By, cmd.WebhookID)
	if err != nil {
		return uuid.Nil, err
	}
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	stored, err := Update(ctx, h.d.w, Target{Stream: stream, Meta: meta}, w, func(w *domain.Webhook) ([]domain.Payload, error) {
		return w.DecideTest(cmd.By.UserID)
	})
	if err != nil {
		return uuid.Nil, err
	}
	return stored[0].EventID, nil
}
