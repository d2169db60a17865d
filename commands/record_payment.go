package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// RecordPayment records how a payment of a tenant's invoice at the payment
// provider went, billing's command for Stripe's invoice events: a failure
// makes the tenant past due, its starts refused once GraceEnds has passed;
// a success ends that.
type RecordPayment struct {
	TenantID  string
	InvoiceID string
	// Failed tells a failed payment from one that succeeded.
	Failed bool
	// GraceEnds is when a failed payment's grace period ends.
	GraceEnds time.Time
	// Meta is stored with the event.
	Meta domain.Metadata
	// CommandID, when set, makes the command idempotent (see SetPlan).
	CommandID string
}

// RecordPaymentHandler handles RecordPayment. It is safe for concurrent use.
type RecordPaymentHandler struct {
	w Writer
}

// NewRecordPaymentHandler returns a handler that reads and appends tenant
// streams through store; now gives the time events occur at (nil:
// time.Now).
func NewRecordPaymentHandler(store StreamStore, now func() time.Time) *RecordPaymentHandler {
	return &RecordPaymentHandler{w: Writer{Store: store, NowFunc: now}}
}

// Handle appends tenant.payment_failed or tenant.payment_recovered (none
// for a success while the tenant is not past due). A tenant that does not
// exist is ErrTenantNotFound; invalid input a *domain.ValidationError.
func (h *RecordPaymentHandler) Handle(ctx context.Context, cmd RecordPayment) (struct{}, error) {
	if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, updateTenantOnce(ctx, h.w, cmd.TenantID, cmd.Meta, "record_payment", cmd.CommandID, func(t *domain.Tenant) ([]domain.Payload, error) {
		return t.DecidePayment(cmd.InvoiceID, cmd.Failed, cmd.GraceEnds)
	})
}
