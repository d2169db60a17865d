package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// RotateWebhookSecret gives a webhook endpoint of the principal's tenant a
// new signing secret.
type RotateWebhookSecret struct {
	By        Principal
	WebhookID string
	Meta      domain.Metadata
}

// RotateWebhookSecretHandler handles RotateWebhookSecret. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type RotateWebhookSecretHandler struct{ d *webhookDeps }

// Handle stores a new secret, appends webhook.secret_rotated and returns
// the endpoint with the new secret, the only time it is shown. Deliveries
// are signed by both the new and the previous secret for SecretOverlap,
// then by the new one only. An endpoint of another tenant is
// ErrWebhookNotFound.
func (h *RotateWebhookSecretHandler) Handle(ctx context.Context, cmd RotateWebhookSecret) (WebhookResult, error) {
	if err := cmd.By.require(domain.ActionManageWebhooks); err != nil {
		return WebhookResult{}, err
	}
	w, stream, err := h.d.load(ctx, cmd.By, cmd.WebhookID)
	if err != nil {
		return WebhookResult{}, err
	}
	secretID, key, err := h.d.newSecret(ctx, cmd.WebhookID)
	if err != nil {
		return WebhookResult{}, err
	}
	now := h.d.cfg.NowFunc()
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	_, err = Update(ctx, h.d.w, Target{Stream: stream, Meta: meta}, w, func(w *domain.Webhook) ([]domain.Payload, error) {
		return w.DecideRotateSecret(secretID, now, h.d.cfg.SecretOverlap, cmd.By.UserID)
	})
	if err != nil {
		return WebhookResult{}, err
	}
	return WebhookResult{Info: webhookInfo(cmd.WebhookID, w), Secret: WebhookSecret{Key: key, PreviousValidUntil: domain.NormalizeTime(now.Add(h.d.cfg.SecretOverlap))}}, nil
}
