package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// SetBillingCustomer remembers a tenant's customer at the payment provider
// (a Stripe customer id), billing's command once it created the customer.
type SetBillingCustomer struct {
	TenantID   string
	CustomerID string
	// Meta is stored with the event.
	Meta domain.Metadata
	// CommandID, when set, makes the command idempotent (see SetPlan).
	CommandID string
}

// SetBillingCustomerHandler handles SetBillingCustomer. It is safe for
// concurrent use.
type SetBillingCustomerHandler struct {
	w Writer
}

// NewSetBillingCustomerHandler returns a handler that reads and appends
// tenant streams through store; now gives the time events occur at (nil:
// time.Now).
func NewSetBillingCustomerHandler(store StreamStore, now func() time.Time) *SetBillingCustomerHandler {
	return &SetBillingCustomerHandler{w: Writer{Store: store, NowFunc: now}}
}

// Handle appends tenant.billing_customer_set unless the tenant has that
// customer already. A tenant that does not exist is ErrTenantNotFound;
// invalid input a *domain.ValidationError.
func (h *SetBillingCustomerHandler) Handle(ctx context.Context, cmd SetBillingCustomer) (struct{}, error) {
	if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, updateTenantOnce(ctx, h.w, cmd.TenantID, cmd.Meta, "set_billing_customer", cmd.CommandID, func(t *domain.Tenant) ([]domain.Payload, error) {
		return t.DecideBillingCustomer(cmd.CustomerID)
	})
}
