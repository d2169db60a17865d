package stripebilling_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/teststripe"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const secret = "whsec_test_secret"

// newService returns the Stripe side of billing on s, against a
// stripe-mock of its own.
func newService(t *testing.T, s teststores.Store) *stripebilling.Service {
	t.Helper()
	svc, err := stripebilling.New(stripebilling.Config{
		SecretKey: "sk_test_123", WebhookSecret: secret, APIURL: teststripe.URL(t),
		PriceIDs:     map[domain.PlanName]string{domain.PlanEntry: "price_entry", domain.PlanPro: "price_pro"},
		FallbackPlan: domain.PlanTrial, Store: s,
		SuccessURL: "https://app.example.com/billing/done", CancelURL: "https://app.example.com/billing", ReturnURL: "https://app.example.com/billing",
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// newTenant appends a tenant's first event and returns its id.
func newTenant(t *testing.T, s teststores.Store) string {
	t.Helper()
	id := uuid.NewString()
	w := commands.Writer{Store: s}
	if _, err := w.Append(t.Context(), commands.Target{Stream: eventstore.Stream{ID: id, Type: domain.StreamTenant, TenantID: id}}, 0,
		&domain.TenantCreated{Name: "Acme", OwnerID: uuid.NewString()}); err != nil {
		t.Fatal(err)
	}
	return id
}

// tenantEvents counts the tenant's events by type, and returns its state.
func tenantEvents(t *testing.T, s teststores.Store, id string) (map[domain.EventType]int, *domain.Tenant) {
	t.Helper()
	var tenant domain.Tenant
	if err := commands.Load(t.Context(), s, eventstore.Stream{ID: id, Type: domain.StreamTenant, TenantID: id}, &tenant); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadStream(t.Context(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := map[domain.EventType]int{}
	for _, e := range evs {
		n[e.Type]++
	}
	return n, &tenant
}

// TestCheckoutAndPortal subscribes a tenant through stripe-mock: its
// customer is created once and remembered; the portal needs it.
func TestCheckoutAndPortal(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		svc := newService(t, s)
		tenant := newTenant(t, s)
		if _, err := svc.Portal(t.Context(), tenant); !errors.Is(err, stripebilling.ErrNoCustomer) {
			t.Fatalf("portal before a customer: %v", err)
		}
		if _, err := svc.Checkout(t.Context(), tenant, domain.PlanTrial); !errors.Is(err, stripebilling.ErrNoPrice) {
			t.Fatalf("checkout of the trial: %v", err)
		}
		for range 2 {
			url, err := svc.Checkout(t.Context(), tenant, domain.PlanPro)
			if err != nil || url == "" {
				t.Fatalf("checkout: %q, %v", url, err)
			}
		}
		n, tt := tenantEvents(t, s, tenant)
		if n[domain.TenantBillingCustomerSetType] != 1 || tt.BillingCustomer() == "" || tt.Plan() != "" {
			t.Fatalf("after two checkouts: %v, customer %q, plan %q (the plan waits for Stripe's webhook)", n, tt.BillingCustomer(), tt.Plan())
		}
		if url, err := svc.Portal(t.Context(), tenant); err != nil || url == "" {
			t.Fatalf("portal: %q, %v", url, err)
		}
		if _, err := svc.Checkout(t.Context(), uuid.NewString(), domain.PlanPro); !errors.Is(err, commands.ErrTenantNotFound) {
			t.Fatalf("checkout of no tenant: %v", err)
		}
	})
}

// subscriptionEvent is a Stripe event of a subscription of tenantID on
// price in status.
func subscriptionEvent(id, typ, tenantID, price, status string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","type":%q,"api_version":"2026-01-28","created":%d,"data":{"object":`+
		`{"id":"sub_1","object":"subscription","status":%q,"customer":"cus_A","metadata":{"tenant_id":%q},`+
		`"items":{"object":"list","data":[{"id":"si_1","object":"subscription_item","price":{"id":%q,"object":"price"}}]}}}}`,
		id, typ, time.Now().Unix(), status, tenantID, price)
}

func sign(payload []byte, at time.Time, key string) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: key, Timestamp: at}).Header
}

// TestWebhook: a signed event changes the plan exactly once; a replay,
// even after a later change, changes nothing; a bad signature or a stale
// timestamp is refused and changes nothing; an event for a tenant this
// server does not have is acknowledged.
func TestWebhook(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		svc := newService(t, s)
		tenant := newTenant(t, s)
		ctx := t.Context()
		deliver := func(payload []byte, header string) error { return svc.HandleWebhook(ctx, payload, header) }
		plan := func() (map[domain.EventType]int, domain.PlanName) {
			n, tt := tenantEvents(t, s, tenant)
			return n, tt.Plan()
		}

		toPro := subscriptionEvent("evt_pro", "customer.subscription.created", tenant, "price_pro", "active")
		for range 2 { // a delivery and its replay
			if err := deliver(toPro, sign(toPro, time.Now(), secret)); err != nil {
				t.Fatal(err)
			}
		}
		if n, p := plan(); p != domain.PlanPro || n[domain.TenantPlanChangedType] != 1 || n[domain.TenantBillingCustomerSetType] != 1 {
			t.Fatalf("after the event and its replay: plan %q, events %v", p, n)
		}
		toEntry := subscriptionEvent("evt_entry", "customer.subscription.updated", tenant, "price_entry", "active")
		if err := deliver(toEntry, sign(toEntry, time.Now(), secret)); err != nil {
			t.Fatal(err)
		}
		// The first event again, after the change: still nothing.
		if err := deliver(toPro, sign(toPro, time.Now(), secret)); err != nil {
			t.Fatal(err)
		}
		if n, p := plan(); p != domain.PlanEntry || n[domain.TenantPlanChangedType] != 2 {
			t.Fatalf("after a replay of an old event: plan %q, events %v", p, n)
		}

		canceled := subscriptionEvent("evt_gone", "customer.subscription.deleted", tenant, "price_entry", "canceled")
		for name, header := range map[string]string{
			"wrong secret":      sign(canceled, time.Now(), "whsec_other"),
			"stale timestamp":   sign(canceled, time.Now().Add(-10*time.Minute), secret),
			"no signature":      "",
			"signature garbage": "t=1,v1=00",
		} {
			if err := deliver(canceled, header); !errors.Is(err, stripebilling.ErrBadSignature) {
				t.Errorf("%s: %v, want ErrBadSignature", name, err)
			}
		}
		if n, p := plan(); p != domain.PlanEntry || n[domain.TenantPlanChangedType] != 2 {
			t.Fatalf("after refused deliveries: plan %q, events %v", p, n)
		}
		if err := deliver(canceled, sign(canceled, time.Now(), secret)); err != nil {
			t.Fatal(err)
		}
		if _, p := plan(); p != domain.PlanTrial {
			t.Fatalf("after the subscription ended: plan %q, want the fallback", p)
		}

		for _, stranger := range [][]byte{
			subscriptionEvent("evt_stranger", "customer.subscription.updated", uuid.NewString(), "price_pro", "active"),
			subscriptionEvent("evt_nobody", "customer.subscription.updated", "", "price_pro", "active"),
			fmt.Appendf(nil, `{"id":"evt_inv","object":"event","type":"invoice.paid","created":%d,"data":{"object":{"id":"in_1","object":"invoice"}}}`, time.Now().Unix()),
			invoiceEvent("evt_inv_stranger", "invoice.payment_failed", uuid.NewString()),
		} {
			if err := deliver(stranger, sign(stranger, time.Now(), secret)); err != nil {
				t.Errorf("an event for nobody here: %v, want it acknowledged", err)
			}
		}
	})
}

// invoiceEvent is a Stripe event of an invoice of a subscription of
// tenantID.
func invoiceEvent(id, typ, tenantID string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","type":%q,"api_version":"2026-01-28","created":%d,"data":{"object":`+
		`{"id":"in_1","object":"invoice","customer":"cus_A","parent":{"type":"subscription_details","subscription_details":{"metadata":{"tenant_id":%q}}}}}}`,
		id, typ, time.Now().Unix(), tenantID)
}

// TestWebhookPayments: a failed payment makes the tenant past due, its
// grace period from the first failure, once per Stripe event; a paid
// invoice ends it.
func TestWebhookPayments(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		svc := newService(t, s)
		tenant := newTenant(t, s)
		deliver := func(payload []byte) {
			t.Helper()
			if err := svc.HandleWebhook(t.Context(), payload, sign(payload, time.Now(), secret)); err != nil {
				t.Fatal(err)
			}
		}
		failed := invoiceEvent("evt_failed", "invoice.payment_failed", tenant)
		deliver(failed)
		deliver(failed) // a replay
		n, tt := tenantEvents(t, s, tenant)
		if grace := time.Until(tt.PastDueGraceEnds()); n[domain.TenantPaymentFailedType] != 1 || grace < 6*24*time.Hour || grace > stripebilling.DefaultGracePeriod {
			t.Fatalf("after a failed payment and its replay: events %v, grace ends in %s", n, grace)
		}
		first := tt.PastDueGraceEnds()
		deliver(invoiceEvent("evt_failed_again", "invoice.payment_failed", tenant))
		if _, tt := tenantEvents(t, s, tenant); !tt.PastDueGraceEnds().Equal(first) {
			t.Fatalf("a second failure moved the grace period's end from %s to %s", first, tt.PastDueGraceEnds())
		}
		deliver(invoiceEvent("evt_paid", "invoice.paid", tenant))
		n, tt = tenantEvents(t, s, tenant)
		if !tt.PastDueGraceEnds().IsZero() || n[domain.TenantPaymentRecoveredType] != 1 {
			t.Fatalf("after a paid invoice: events %v, past due until %s", n, tt.PastDueGraceEnds())
		}
		deliver(invoiceEvent("evt_paid_again", "invoice.paid", tenant)) // in order already: nothing
		if n, _ := tenantEvents(t, s, tenant); n[domain.TenantPaymentRecoveredType] != 1 {
			t.Fatalf("a paid invoice while in order: events %v", n)
		}
	})
}

// TestConfig refuses a configuration that cannot work.
func TestConfig(t *testing.T) {
	t.Parallel()
	// Each case lacks only what it names: a store is given where it
	// would be checked first.
	s := teststores.Engines[0].Open(t, eventstore.Options{})
	for name, cfg := range map[string]stripebilling.Config{
		"no key":           {WebhookSecret: secret, SuccessURL: "x", CancelURL: "x", ReturnURL: "x", FallbackPlan: domain.PlanTrial},
		"no return URLs":   {SecretKey: "sk", WebhookSecret: secret, FallbackPlan: domain.PlanTrial},
		"no fallback plan": {SecretKey: "sk", WebhookSecret: secret, SuccessURL: "x", CancelURL: "x", ReturnURL: "x", Store: s},
	} {
		if _, err := stripebilling.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
