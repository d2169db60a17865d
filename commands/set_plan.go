package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// SetPlan puts a tenant on a plan, an operator's command (axontask tenants
// set-plan) until billing sets plans.
type SetPlan struct {
	TenantID string
	Plan     domain.PlanName
	// Meta is stored with the event.
	Meta domain.Metadata
	// CommandID, when set, makes the command idempotent: its event's id
	// derives from it (a Stripe event id, for a plan change billing
	// decided), so a retry appends nothing twice.
	CommandID string
}

// SetPlanHandler handles SetPlan. It is safe for concurrent use.
type SetPlanHandler struct {
	w Writer
}

// NewSetPlanHandler returns a handler that reads and appends tenant streams
// through store; now gives the time events occur at (nil: time.Now).
func NewSetPlanHandler(store StreamStore, now func() time.Time) *SetPlanHandler {
	return &SetPlanHandler{w: Writer{Store: store, NowFunc: now}}
}

// Handle appends tenant.plan_changed unless the tenant is on cmd.Plan
// already (then it is a no-op), or cmd.CommandID was handled before. A tenant that does not exist is
// ErrTenantNotFound; invalid input a *domain.ValidationError. The change
// takes effect on every API process within planCacheTTL.
func (h *SetPlanHandler) Handle(ctx context.Context, cmd SetPlan) (struct{}, error) {
	if _, err := domain.ParsePlanName(string(cmd.Plan)); err != nil {
		return struct{}{}, err
	}
	if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, updateTenantOnce(ctx, h.w, cmd.TenantID, cmd.Meta, "set_plan", cmd.CommandID, func(t *domain.Tenant) ([]domain.Payload, error) {
		return t.DecidePlan(cmd.Plan)
	})
}
