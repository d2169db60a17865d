package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// ChangeWebhook changes a webhook endpoint of the principal's tenant: each
// non-nil field replaces the endpoint's.
type ChangeWebhook struct {
	By          Principal
	WebhookID   string
	URL         *string
	Events      *[]string
	Description *string
	Enabled     *bool
	Meta        domain.Metadata
}

// ChangeWebhookHandler handles ChangeWebhook. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type ChangeWebhookHandler struct{ d *webhookDeps }

// Handle appends webhook.changed with the endpoint's new settings (nothing
// when they are its current ones) and returns the endpoint. Enabling an
// endpoint the delivery disabled enables it again. An endpoint of another
// tenant is ErrWebhookNotFound.
func (h *ChangeWebhookHandler) Handle(ctx context.Context, cmd ChangeWebhook) (WebhookResult, error) {
	if err := cmd.By.require(domain.ActionManageWebhooks); err != nil {
		return WebhookResult{}, err
	}
	w, stream, err := h.d.load(ctx, cmd.By, cmd.WebhookID)
	if err != nil {
		return WebhookResult{}, err
	}
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	_, err = Update(ctx, h.d.w, Target{Stream: stream, Meta: meta}, w, func(w *domain.Webhook) ([]domain.Payload, error) {
		s := cmd.apply(w.Settings())
		if err := h.d.checkSettings(s); err != nil {
			return nil, err
		}
		return w.DecideChange(s, cmd.By.UserID, h.d.cfg.AllowHTTP)
	})
	if err != nil {
		return WebhookResult{}, err
	}
	return WebhookResult{Info: webhookInfo(cmd.WebhookID, w)}, nil
}

// apply returns s with the fields cmd sets replaced.
func (cmd ChangeWebhook) apply(s domain.WebhookSettings) domain.WebhookSettings {
	if cmd.URL != nil {
		s.URL = *cmd.URL
	}
	if cmd.Events != nil {
		s.Events = *cmd.Events
	}
	if cmd.Description != nil {
		s.Description = *cmd.Description
	}
	if cmd.Enabled != nil {
		s.Enabled = *cmd.Enabled
	}
	return s
}
