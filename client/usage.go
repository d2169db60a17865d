package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/axontask/axontask/api"
)

// UsageOptions selects the days of Usage: a month (Period, "2026-12"), or
// a range of UTC days (From and To, "2026-12-01", both included); none of
// them is the current UTC month.
type UsageOptions struct {
	Period   string
	From, To string
}

// Usage returns the caller's tenant's metered usage (GET /v1/usage):
// task-minutes, tasks started, SSE streams and their bytes, MCP calls and
// output bytes, in total and per day. It needs tasks:read or any role.
func (c *Client) Usage(ctx context.Context, opts UsageOptions) (api.Usage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"period": opts.Period, "from": opts.From, "to": opts.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out api.Usage
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/usage", query: q}, &out, 0); err != nil {
		return api.Usage{}, err
	}
	return out, nil
}

// Billing returns the caller's tenant's billing view of a month (GET
// /v1/billing; period "2026-12", or "" for the current UTC month): its
// plan, the month's usage priced line by line, and the estimated invoice
// in minor units of its currency. Owners only: other roles and API keys
// get an *APIError with status 403.
func (c *Client) Billing(ctx context.Context, period string) (api.Billing, error) {
	q := url.Values{}
	if period != "" {
		q.Set("period", period)
	}
	var out api.Billing
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/billing", query: q}, &out, 0); err != nil {
		return api.Billing{}, err
	}
	return out, nil
}

// BillingCheckout starts a Stripe Checkout Session that subscribes the
// caller's tenant to plan (POST /v1/billing/checkout) and returns the
// Stripe page to send the customer to. Owners only (*APIError 403 for
// others); ErrNotFound when the server's billing is off.
func (c *Client) BillingCheckout(ctx context.Context, plan string) (api.BillingSession, error) {
	return c.billingSession(ctx, "/v1/billing/checkout", api.CheckoutRequest{Plan: plan})
}

// BillingPortal opens a Stripe Customer Portal session for the caller's
// tenant (POST /v1/billing/portal), where its owner changes the plan and
// the payment details, and returns its URL. Owners only; ErrNotFound when
// the server's billing is off.
func (c *Client) BillingPortal(ctx context.Context) (api.BillingSession, error) {
	return c.billingSession(ctx, "/v1/billing/portal", nil)
}

// billingSession posts body (none when nil) to path and returns the Stripe
// session answered.
func (c *Client) billingSession(ctx context.Context, path string, body any) (api.BillingSession, error) {
	var out api.BillingSession
	if err := c.do(ctx, call{method: http.MethodPost, path: path, body: body}, &out, 0); err != nil {
		return api.BillingSession{}, err
	}
	return out, nil
}
