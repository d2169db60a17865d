package readapi

import (
	"context"
	"net/http"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/billing"
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
