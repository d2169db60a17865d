package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// CreateWebhook registers a webhook endpoint in the principal's tenant.
type CreateWebhook struct {
	By       Principal
	Settings domain.WebhookSettings
	Meta     domain.Metadata
}

// CreateWebhookHandler handles CreateWebhook. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type CreateWebhookHandler struct{ d *webhookDeps }

// Handle validates the settings (the URL also by CheckURLFunc), stores a
// new signing secret, appends webhook.created to the new endpoint's stream
// and returns the endpoint with its secret, the only time it is shown. The
// principal must manage webhooks (ErrForbidden); a tenant with
// MaxWebhooksPerTenant endpoints gets no more (ErrTooManyWebhooks).
func (h *CreateWebhookHandler) Handle(ctx context.Context, cmd CreateWebhook) (WebhookResult, error) {
	if err := cmd.By.require(domain.ActionManageWebhooks); err != nil {
		return WebhookResult{}, err
	}
	if err := h.d.checkSettings(cmd.Settings); err != nil {
		return WebhookResult{}, err
	}
	existing, err := h.d.endpoints(ctx, cmd.By.TenantID)
	if err != nil {
		return WebhookResult{}, err
	}
	if len(existing) >= MaxWebhooksPerTenant {
		return WebhookResult{}, ErrTooManyWebhooks
	}
	id, err := uuid.NewV7()
	if err != nil {
		return WebhookResult{}, fmt.Errorf("new webhook id: %w", err)
	}
	secretID, key, err := h.d.newSecret(ctx, id.String())
	if err != nil {
		return WebhookResult{}, err
	}
	created, err := domain.NewWebhookCreated(cmd.Settings, secretID, cmd.By.UserID, h.d.cfg.AllowHTTP)
	if err != nil {
		return WebhookResult{}, err
	}
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	stream := eventstore.Stream{ID: id.String(), Type: domain.StreamWebhook, TenantID: cmd.By.TenantID}
	var w domain.Webhook
	if _, err := Update(ctx, h.d.w, Target{Stream: stream, Meta: meta}, &w, func(*domain.Webhook) ([]domain.Payload, error) {
		return []domain.Payload{created}, nil
	}); err != nil {
		return WebhookResult{}, fmt.Errorf("create webhook: %w", err)
	}
	return WebhookResult{Info: webhookInfo(id.String(), &w), Secret: WebhookSecret{Key: key}}, nil
}
