package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// ListWebhooks asks for the webhook endpoints of the principal's tenant.
// It is a query: it appends nothing.
type ListWebhooks struct {
	By Principal
}

// ListWebhooksHandler answers ListWebhooks. Build it with
// NewWebhookHandlers; it is safe for concurrent use.
type ListWebhooksHandler struct{ d *webhookDeps }

// Handle returns the tenant's endpoints, oldest first, without secrets.
func (h *ListWebhooksHandler) Handle(ctx context.Context, q ListWebhooks) ([]WebhookInfo, error) {
	if err := q.By.require(domain.ActionManageWebhooks); err != nil {
		return nil, err
	}
	return h.d.endpoints(ctx, q.By.TenantID)
}
