package api

// Money is an amount in minor units (cents) of a currency, never a float.
type Money struct {
	Amount int64 `json:"amount"`
	// Currency is an ISO 4217 code in lower case ("usd").
	Currency string `json:"currency"`
}

// BillingLine is one line of a billing estimate: the plan's fixed price
// (meter "plan"), or one meter's usage and what it costs beyond what the
// plan includes.
type BillingLine struct {
	// Meter is plan, task_minutes, streams_opened or bytes_streamed.
	Meter string `json:"meter"`
	// Quantity is what was used (1 for the plan); Included the part of it
	// the plan includes; Billable the rest.
	Quantity int64 `json:"quantity"`
	Included int64 `json:"included"`
	Billable int64 `json:"billable"`
	// UnitAmount is the price, in minor units, of Unit of the meter's
	// quantity (1,000 task-minutes, 1,000 streams, 1 GiB in bytes).
	UnitAmount int64 `json:"unit_amount"`
	Unit       int64 `json:"unit"`
	// Amount is the line's amount in minor units, a started one counting
	// as one.
	Amount int64 `json:"amount"`
}

// Billing answers GET /v1/billing: the caller's tenant's billing view of
// a month.
type Billing struct {
	// Plan is the plan in effect at the month's end (or now).
	Plan string `json:"plan"`
	// Period is the month ("2026-12"); From and To its first and last day.
	Period string `json:"period"`
	From   string `json:"from"`
	To     string `json:"to"`
	// TrialEndsAt is when the trial ends, while the tenant is on it.
	TrialEndsAt Time `json:"trial_ends_at"`
	// Estimate is the month's invoice estimate: the sum of Lines.
	Estimate Money `json:"estimate"`
	// Lines are the plan's fixed price, then one line per meter.
	Lines []BillingLine `json:"lines"`
	// Usage is the month's usage.
	Usage UsageCounts `json:"usage"`
}

// CheckoutRequest is the body of POST /v1/billing/checkout.
type CheckoutRequest struct {
	// Plan is the plan to subscribe to (entry, pro, ent: those with a
	// Stripe price configured).
	Plan string `json:"plan"`
}

// BillingSession answers POST /v1/billing/checkout and
// POST /v1/billing/portal: the Stripe page to send the customer to.
type BillingSession struct {
	URL string `json:"url"`
}

// WebhookReceived answers a Stripe webhook that was handled or
// acknowledged.
type WebhookReceived struct {
	Received bool `json:"received"`
}
