package stripebilling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// namespace is the UUIDv5 namespace of the billing streams' ids, derived
// from Stripe event ids. It never changes: a replay must find its stream.
var namespace = uuid.MustParse("0b7f4c1e-9a3d-5f62-8e14-3c2d9b6a7f05")

// change is what a Stripe event asks of a tenant.
type change struct {
	tenantID string
	// customer, when set, is the tenant's Stripe customer.
	customer string
	// plan, when set, is the tenant's plan from now on.
	plan domain.PlanName
	// invoice, when set, is an invoice whose payment failed (paymentFailed)
	// or succeeded.
	invoice       string
	paymentFailed bool
}

// HandleWebhook verifies a Stripe webhook (its Stripe-Signature header,
// signed with the endpoint's secret, within the tolerance) and acts on
// it, once per Stripe event id: a replay changes nothing. A payload that
// does not verify is ErrBadSignature and changes nothing. An event that
// names no tenant of this server (an unknown customer) is logged and
// acknowledged (nil): Stripe would retry an error for days.
//
// It acts on checkout.session.completed (the customer and the plan paid
// for), customer.subscription.created and .updated (an active or trialing
// subscription puts the tenant on its price's plan; canceled, unpaid or
// incomplete_expired back on FallbackPlan; past_due changes nothing while
// Stripe retries the payment) and customer.subscription.deleted (back on
// FallbackPlan), invoice.payment_failed (the tenant past due: its starts
// are refused once Config.GracePeriod has passed, unless a payment
// succeeds or its plan changes meanwhile) and invoice.paid (past due no
// longer). Other events are acknowledged.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signature string) error {
	event, err := webhook.ConstructEventWithOptions(payload, signature, s.cfg.WebhookSecret,
		webhook.ConstructEventOptions{Tolerance: s.cfg.Tolerance, IgnoreAPIVersionMismatch: true})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	c, err := s.changeOf(event)
	if err != nil {
		return err
	}
	if c.tenantID == "" {
		s.cfg.Logger.InfoContext(ctx, "billing: a Stripe event needs nothing of us", "stripe_event_id", event.ID, "type", event.Type)
		return nil
	}
	if err := domain.ValidateIdentifier("tenant_id", c.tenantID); err != nil {
		s.cfg.Logger.WarnContext(ctx, "billing: a Stripe event names no tenant of ours; acknowledged", "stripe_event_id", event.ID, "type", event.Type)
		return nil
	}
	record := eventstore.Stream{ID: uuid.NewSHA1(namespace, []byte(event.ID)).String(), Type: domain.StreamBilling, TenantID: c.tenantID}
	if done, err := s.cfg.Store.ReadStream(ctx, record.ID, 0, 1); err != nil || len(done) > 0 {
		return err // handled before (a replay), or the store failed
	}
	err = s.apply(ctx, event.ID, c)
	if errors.Is(err, commands.ErrTenantNotFound) {
		s.cfg.Logger.WarnContext(ctx, "billing: a Stripe event names a tenant that does not exist; acknowledged", "stripe_event_id", event.ID, "type", event.Type, "tenant_id", c.tenantID)
		return nil
	}
	if err != nil {
		return err
	}
	w := commands.Writer{Store: s.cfg.Store}
	_, err = w.Append(ctx, commands.Target{Stream: record, Meta: domain.Metadata{Actor: "stripe", CausationID: event.ID},
		EventIDFunc: func(int) uuid.UUID { return uuid.NewSHA1(namespace, []byte(event.ID+"/handled")) }},
		0, &domain.StripeEventHandled{StripeEventID: event.ID, StripeType: string(event.Type)})
	if errors.Is(err, eventstore.ErrConflict) || errors.Is(err, eventstore.ErrEventIDReused) {
		return nil // a concurrent delivery of the same event recorded it
	}
	return err
}

// apply makes the tenant's changes, each idempotent by the Stripe event id.
func (s *Service) apply(ctx context.Context, eventID string, c change) error {
	meta := domain.Metadata{Actor: "stripe", CausationID: eventID}
	if c.customer != "" {
		if _, err := s.setCustomer.Handle(ctx, commands.SetBillingCustomer{TenantID: c.tenantID, CustomerID: c.customer, Meta: meta, CommandID: eventID}); err != nil {
			return err
		}
	}
	if c.plan != "" {
		if _, err := s.setPlan.Handle(ctx, commands.SetPlan{TenantID: c.tenantID, Plan: c.plan, Meta: meta, CommandID: eventID}); err != nil {
			return err
		}
	}
	if c.invoice != "" {
		if _, err := s.recordPayment.Handle(ctx, commands.RecordPayment{TenantID: c.tenantID, InvoiceID: c.invoice, Failed: c.paymentFailed,
			GraceEnds: time.Now().Add(s.cfg.GracePeriod), Meta: meta, CommandID: eventID}); err != nil {
			return err
		}
	}
	return nil
}

// changeOf reads what event asks of which tenant; none for the events
// this server does not act on.
func (s *Service) changeOf(event stripe.Event) (change, error) {
	switch event.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(event.Data.Raw, &cs); err != nil {
			return change{}, fmt.Errorf("stripe event %s: %w", event.ID, err)
		}
		c := change{tenantID: cs.ClientReferenceID, plan: s.knownPlan(cs.Metadata["plan"])}
		if cs.Customer != nil {
			c.customer = cs.Customer.ID
		}
		return c, nil
	case stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated, stripe.EventTypeCustomerSubscriptionDeleted:
		var sub stripe.Subscription
		if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
			return change{}, fmt.Errorf("stripe event %s: %w", event.ID, err)
		}
		c := change{tenantID: sub.Metadata["tenant_id"]}
		if sub.Customer != nil {
			c.customer = sub.Customer.ID
		}
		switch {
		case event.Type == stripe.EventTypeCustomerSubscriptionDeleted,
			sub.Status == stripe.SubscriptionStatusCanceled, sub.Status == stripe.SubscriptionStatusUnpaid, sub.Status == stripe.SubscriptionStatusIncompleteExpired:
			c.plan = s.cfg.FallbackPlan
		case sub.Status == stripe.SubscriptionStatusActive, sub.Status == stripe.SubscriptionStatusTrialing:
			c.plan = s.planOf(&sub)
		}
		return c, nil
	case stripe.EventTypeInvoicePaymentFailed, stripe.EventTypeInvoicePaid:
		var inv stripe.Invoice
		if err := json.Unmarshal(event.Data.Raw, &inv); err != nil {
			return change{}, fmt.Errorf("stripe event %s: %w", event.ID, err)
		}
		// The subscription's metadata, copied onto its invoices, names the
		// tenant; an invoice of no subscription of ours names none.
		if inv.Parent == nil || inv.Parent.SubscriptionDetails == nil {
			return change{}, nil
		}
		return change{tenantID: inv.Parent.SubscriptionDetails.Metadata["tenant_id"], invoice: inv.ID,
			paymentFailed: event.Type == stripe.EventTypeInvoicePaymentFailed}, nil
	default:
		return change{}, nil // acknowledged: nothing to do
	}
}

// knownPlan returns name as a plan one may subscribe to, or "".
func (s *Service) knownPlan(name string) domain.PlanName {
	if _, ok := s.cfg.PriceIDs[domain.PlanName(name)]; ok {
		return domain.PlanName(name)
	}
	return ""
}

// planOf returns the plan of the subscription's first price that is one
// of the plans' prices, or "".
func (s *Service) planOf(sub *stripe.Subscription) domain.PlanName {
	if sub.Items == nil {
		return ""
	}
	for _, it := range sub.Items.Data {
		if it.Price != nil {
			if p, ok := s.plans[it.Price.ID]; ok {
				return p
			}
		}
	}
	return ""
}
