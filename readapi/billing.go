package readapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/billing"
	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// BillingViews computes tenants' billing views (*billing.Views).
type BillingViews interface {
	// Month returns tenantID's view of the UTC month of month.
	Month(ctx context.Context, tenantID string, month time.Time) (billing.View, error)
}

// billingReader admits the callers that may manage billing (owners), when
// billing views are served at all (Config.Billing; 404 otherwise).
func (a *api) billingReader(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.Billing == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.ownTenant(w, r, domain.ActionManageBilling)
}

// billing answers GET /v1/billing?period=YYYY-MM (the current UTC month
// without it).
func (a *api) billing(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.Billing, error) {
	if q := r.URL.Query(); q.Has("from") || q.Has("to") {
		return wire.Billing{}, &domain.ValidationError{Field: "from", Reason: "is not taken here: a bill covers a month; ask with period=YYYY-MM"}
	}
	rng, err := usageRange(r, a.cfg.NowFunc())
	if err != nil {
		return wire.Billing{}, err
	}
	v, err := a.cfg.Billing.Month(r.Context(), p.TenantID, rng.first)
	if err != nil {
		return wire.Billing{}, err
	}
	out := wire.Billing{
		Plan: string(v.Plan), Period: rng.period, From: rng.first.Format(time.DateOnly), To: rng.last.Format(time.DateOnly),
		TrialEndsAt: wire.Time{Time: v.TrialEndsAt}, Estimate: wire.Money{Amount: v.Estimate.Amount, Currency: v.Estimate.Currency},
		Lines: make([]wire.BillingLine, len(v.Estimate.Lines)), Usage: usageCounts(v.Usage),
	}
	for i, l := range v.Estimate.Lines {
		out.Lines[i] = wire.BillingLine{Meter: string(l.Meter), Quantity: l.Quantity, Included: l.Included, Billable: l.Billable,
			UnitAmount: l.UnitAmount, Unit: l.Unit, Amount: l.Amount}
	}
	return out, nil
}

// StripeBilling is the Stripe side of billing (*stripebilling.Service),
// served only when billing is enabled.
type StripeBilling interface {
	// Checkout returns the URL of a Checkout Session that subscribes
	// tenantID to plan.
	Checkout(ctx context.Context, tenantID string, plan domain.PlanName) (string, error)
	// Portal returns the URL of a Customer Portal session of tenantID.
	Portal(ctx context.Context, tenantID string) (string, error)
	// HandleWebhook verifies and handles a Stripe webhook.
	HandleWebhook(ctx context.Context, payload []byte, signature string) error
}

// stripeOwner admits the owners, when Stripe billing is on (404 otherwise).
func (a *api) stripeOwner(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.Stripe == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.caller(w, r, domain.ActionManageBilling)
}

// checkout answers POST /v1/billing/checkout {"plan"}.
func (a *api) checkout(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.CheckoutRequest) (wire.BillingSession, error) {
	plan, err := domain.ParsePlanName(req.Plan)
	if err != nil {
		return wire.BillingSession{}, err
	}
	url, err := a.cfg.Stripe.Checkout(r.Context(), p.TenantID, plan)
	if errors.Is(err, stripebilling.ErrNoPrice) {
		return wire.BillingSession{}, &domain.ValidationError{Field: "plan", Reason: fmt.Sprintf("%s cannot be subscribed to here: it has no Stripe price; choose another plan", plan)}
	}
	return wire.BillingSession{URL: url}, err
}

// portal answers POST /v1/billing/portal.
func (a *api) portal(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.BillingSession, error) {
	url, err := a.cfg.Stripe.Portal(r.Context(), p.TenantID)
	return wire.BillingSession{URL: url}, err
}

// stripeWebhook answers POST /v1/billing/stripe/webhook: Stripe's own
// credential is the signature, checked by HandleWebhook.
func (a *api) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Stripe == nil {
		a.writeError(w, r, errNoRoute)
		return
	}
	body, err := readBody(w, r)
	if err == nil {
		err = a.cfg.Stripe.HandleWebhook(r.Context(), body, r.Header.Get("Stripe-Signature"))
	}
	if errors.Is(err, stripebilling.ErrBadSignature) {
		err = &domain.ValidationError{Field: "Stripe-Signature", Reason: "does not verify with the endpoint's signing secret within the tolerance; Stripe signs every delivery, a replayed or altered one fails"}
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.storeDown.Succeeded()
	if err := writeJSON(w, http.StatusOK, wire.WebhookReceived{Received: true}); err != nil {
		a.writeError(w, r, err)
	}
}
