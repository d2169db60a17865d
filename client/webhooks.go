package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/axontask/axontask/api"
)

// The webhook calls need an owner, an admin or a key with the admin scope
// (ErrForbidden otherwise); another tenant's endpoint is ErrNotFound.
// docs/webhooks.md describes deliveries and how to verify them.

// CreateWebhook registers an endpoint (POST /v1/webhooks). The answer's
// Secret (whsec_…) is shown this once. A URL that is not https, or whose
// host is a literal internal address, is ErrInvalidInput naming "url".
func (c *Client) CreateWebhook(ctx context.Context, req api.CreateWebhookRequest) (api.Webhook, error) {
	var out api.Webhook
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks", body: req}, &out, 0); err != nil {
		return api.Webhook{}, err
	}
	return out, nil
}

// ListWebhooks returns the tenant's endpoints, without secrets (GET
// /v1/webhooks).
func (c *Client) ListWebhooks(ctx context.Context) ([]api.Webhook, error) {
	var out api.WebhookList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks"}, &out, 0); err != nil {
		return nil, err
	}
	return out.Webhooks, nil
}

// GetWebhook returns one endpoint, without its secret.
func (c *Client) GetWebhook(ctx context.Context, webhookID string) (api.Webhook, error) {
	return c.webhookCall(ctx, http.MethodGet, webhookID, "", nil)
}

// ChangeWebhook replaces the fields req sets (PATCH /v1/webhooks/{id}) and
// returns the endpoint as it is now.
func (c *Client) ChangeWebhook(ctx context.Context, webhookID string, req api.ChangeWebhookRequest) (api.Webhook, error) {
	return c.webhookCall(ctx, http.MethodPatch, webhookID, "", req)
}

// RotateWebhookSecret gives the endpoint a new secret, in the answer's
// Secret; the previous one signs beside it until PreviousSecretValidUntil.
func (c *Client) RotateWebhookSecret(ctx context.Context, webhookID string) (api.Webhook, error) {
	return c.webhookCall(ctx, http.MethodPost, webhookID, "/rotate-secret", nil)
}

// DeleteWebhook deletes the endpoint; nothing more is delivered to it.
func (c *Client) DeleteWebhook(ctx context.Context, webhookID string) error {
	id, err := segment("the webhook id", webhookID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/webhooks/" + id}, nil, 0)
}

// ListWebhookDeliveries returns a page of the endpoint's delivery log,
// newest first: up to limit (0: the server's default) deliveries before
// position before (0: from the newest); the page's NextBefore continues it.
func (c *Client) ListWebhookDeliveries(ctx context.Context, webhookID string, before int64, limit int) (api.WebhookDeliveryList, error) {
	id, err := segment("the webhook id", webhookID)
	if err != nil {
		return api.WebhookDeliveryList{}, err
	}
	q := url.Values{}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.WebhookDeliveryList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + id + "/deliveries", query: q}, &out, 0); err != nil {
		return api.WebhookDeliveryList{}, err
	}
	return out, nil
}

// RedeliverWebhook delivers again one delivery (req.DeliveryID) or every
// delivery made since req.Since, and returns how many.
func (c *Client) RedeliverWebhook(ctx context.Context, webhookID string, req api.RedeliverRequest) (int, error) {
	id, err := segment("the webhook id", webhookID)
	if err != nil {
		return 0, err
	}
	var out api.Redelivered
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + id + "/redeliver", body: req}, &out, 0); err != nil {
		return 0, err
	}
	return out.Redelivered, nil
}

// SendWebhookTestEvent asks for a test delivery to the endpoint alone and
// returns the event's id and the delivery's, to find in the log.
func (c *Client) SendWebhookTestEvent(ctx context.Context, webhookID string) (api.TestEventSent, error) {
	id, err := segment("the webhook id", webhookID)
	if err != nil {
		return api.TestEventSent{}, err
	}
	var out api.TestEventSent
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + id + "/test"}, &out, 0); err != nil {
		return api.TestEventSent{}, err
	}
	return out, nil
}

// webhookCall sends method to /v1/webhooks/{id}{suffix} with body (none
// when nil) and returns the endpoint answered.
func (c *Client) webhookCall(ctx context.Context, method, webhookID, suffix string, body any) (api.Webhook, error) {
	id, err := segment("the webhook id", webhookID)
	if err != nil {
		return api.Webhook{}, err
	}
	var out api.Webhook
	if err := c.do(ctx, call{method: method, path: "/v1/webhooks/" + id + suffix, body: body}, &out, 0); err != nil {
		return api.Webhook{}, err
	}
	return out, nil
}
