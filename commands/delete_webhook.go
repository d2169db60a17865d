package commands

import (
	"context"
	"errors"

	"github.com/axontask/axontask/domain"
)

// DeleteWebhook deletes a webhook endpoint of the principal's tenant.
type DeleteWebhook struct {
	By        Principal
	WebhookID string
	Meta      domain.Metadata
}

// DeleteWebhookHandler handles DeleteWebhook. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type DeleteWebhookHandler struct{ d *webhookDeps }

// Handle appends webhook.deleted, after which nothing is delivered to the
// endpoint, and deletes its secrets. An endpoint of another tenant, or one
// deleted already, is ErrWebhookNotFound.
func (h *DeleteWebhookHandler) Handle(ctx context.Context, cmd DeleteWebhook) (struct{}, error) {
	if err := cmd.By.require(domain.ActionManageWebhooks); err != nil {
		return struct{}{}, err
	}
	w, stream, err := h.d.load(ctx, cmd.By, cmd.WebhookID)
	if err != nil {
		return struct{}{}, err
	}
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	_, err = Update(ctx, h.d.w, Target{Stream: stream, Meta: meta}, w, func(w *domain.Webhook) ([]domain.Payload, error) {
		if !w.Exists() {
			return nil, ErrWebhookNotFound
		}
		return w.DecideDelete(cmd.By.UserID), nil
	})
	if err != nil && !errors.Is(err, ErrWebhookNotFound) {
		return struct{}{}, err
	}
	// Deleted by this call or a concurrent one: either way its secrets go.
	return struct{}{}, h.d.cfg.Secrets.WebhookSecretDelete(ctx, cmd.WebhookID)
}
