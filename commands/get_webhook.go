package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// GetWebhook asks for one webhook endpoint of the principal's tenant. It
// is a query: it appends nothing.
type GetWebhook struct {
	By        Principal
	WebhookID string
}

// GetWebhookHandler answers GetWebhook. Build it with NewWebhookHandlers;
// it is safe for concurrent use.
type GetWebhookHandler struct{ d *webhookDeps }

// Handle returns the endpoint without its secret; one of another tenant is
// ErrWebhookNotFound.
func (h *GetWebhookHandler) Handle(ctx context.Context, q GetWebhook) (WebhookInfo, error) {
	if err := q.By.require(domain.ActionManageWebhooks); err != nil {
		return WebhookInfo{}, err
	}
	w, _, err := h.d.load(ctx, q.By, q.WebhookID)
	if err != nil {
		return WebhookInfo{}, err
	}
	return webhookInfo(q.WebhookID, w), nil
}
