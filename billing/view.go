package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/plans"
	"github.com/axontask/axontask/projections"
)

// Store is what the billing view reads: the tenants' streams and the usage
// counters read model (both engines' stores have it).
type Store interface {
	commands.StreamReader
	projections.UsageStore
}

// Config configures Views.
type Config struct {
	// Store is read for tenants and usage; required.
	Store Store
	// Catalog holds the plans, their prices and the trial's length.
	Catalog plans.Catalog
}

// Views computes billing views. It is safe for concurrent use.
type Views struct {
	cfg Config
}

// NewViews returns the billing views of cfg; it fails when cfg cannot work.
func NewViews(cfg Config) (*Views, error) {
	if cfg.Store == nil {
		return nil, errors.New("billing config: Store is nil")
	}
	return &Views{cfg: cfg}, nil
}

// View is a tenant's billing view of one month.
type View struct {
	TenantID string
	// Plan is the plan in effect at the end of the month (or now, for the
	// current month): the last tenant.plan_changed before then, else the
	// catalog's default plan.
	Plan domain.PlanName
	// First and Last are the month's first and last UTC days.
	First, Last time.Time
	// TrialEndsAt is when the tenant's trial ends (the catalog's
	// TrialDays after its creation) while Plan is the trial; zero
	// otherwise.
	TrialEndsAt time.Time
	// Usage is the month's usage.
	Usage projections.UsageCounts
	// Estimate prices Usage on Plan.
	Estimate Estimate
}

// Month returns tenantID's view of the UTC month that month is in. A
// tenant that does not exist is commands.ErrTenantNotFound.
func (v *Views) Month(ctx context.Context, tenantID string, month time.Time) (View, error) {
	first, last := projections.MonthOf(month)
	t, err := v.tenant(ctx, tenantID, first.AddDate(0, 1, 0))
	if err != nil {
		return View{}, err
	}
	days, err := v.cfg.Store.UsageCountersRead(ctx, tenantID, first, last)
	if err != nil {
		return View{}, err
	}
	p := v.cfg.Catalog.Get(t.plan)
	view := View{TenantID: tenantID, Plan: p.Name, First: first, Last: last, Usage: projections.SumUsage(days)}
	if p.Name == domain.PlanTrial {
		view.TrialEndsAt = v.cfg.Catalog.TrialEnds(t.createdAt)
	}
	view.Estimate = Price(p, v.cfg.Catalog.Currency(), view.Usage)
	return view, nil
}

// tenantHistory is what the view needs of a tenant's stream.
type tenantHistory struct {
	createdAt time.Time
	// plan is the last plan set before the time asked for; empty for the
	// default plan.
	plan domain.PlanName
}

// tenant reads tenantID's stream: its creation and its plan before end.
func (v *Views) tenant(ctx context.Context, tenantID string, end time.Time) (tenantHistory, error) {
	var h tenantHistory
	for after := int64(0); ; {
		page, err := v.cfg.Store.ReadStream(ctx, tenantID, after, 0)
		if err != nil {
			return h, fmt.Errorf("read tenant %s: %w", tenantID, err)
		}
		if len(page) == 0 {
			break
		}
		if after == 0 && (page[0].StreamType != domain.StreamTenant || page[0].TenantID != tenantID) {
			break
		}
		for i := range page {
			e := &page[i]
			if e.Seq == 1 {
				h.createdAt = e.OccurredAt
			}
			if e.Type != domain.TenantPlanChangedType || !e.OccurredAt.Before(end) || e.Payload == nil {
				continue
			}
			p, err := domain.Decode(e.Type, e.Payload)
			if err != nil {
				return h, fmt.Errorf("tenant %s: event %d: %w", tenantID, e.Seq, err)
			}
			h.plan = p.(*domain.TenantPlanChanged).Plan
		}
		after = page[len(page)-1].Seq
	}
	if h.createdAt.IsZero() {
		return h, commands.ErrTenantNotFound
	}
	return h, nil
}
