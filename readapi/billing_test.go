package readapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/teststripe"
	"github.com/axontask/axontask/internal/testwait"
)

// TestBillingView: an owner sees the month's plan, its price and the
// usage priced; members and API keys are forbidden; another tenant's
// view is not found.
func TestBillingView(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{usage: true}, func(t *testing.T, b *bundle) {
		reg := decode[tokens](t, b.send(t, "POST", "/v1/auth/register", `{"email":"payer@example.com","password":"`+testPassword+`","tenant_name":"payer"}`), http.StatusCreated)
		owner := []string{"Authorization", "Bearer " + reg.AccessToken}
		invited := decode[map[string]string](t, b.send(t, "POST", "/v1/members", `{"email":"`+tenantA+`@example.com","role":"admin"}`, owner...), http.StatusAccepted)
		// Tenant A's owner: the trial, free, ending 7 days after the tenant
		// was created. They accept the invitation into "payer".
		ownerA := decode[tokens](t, b.send(t, "POST", "/v1/auth/login", `{"email":"`+tenantA+`@example.com","password":"`+testPassword+`","tenant_id":"`+b.tenants[tenantA]+`"}`), http.StatusOK)
		decode[map[string]string](t, b.send(t, "POST", "/v1/invitations/"+invited["invitation_id"]+"/accept", "", "Authorization", "Bearer "+ownerA.AccessToken), http.StatusOK)
		s := b.start(t)
		b.run(t, s.TaskID)
		var v wire.Billing
		testwait.For(t, "the task in the billing view", func() bool {
			v = decode[wire.Billing](t, b.send(t, "GET", "/v1/billing", "", "Authorization", "Bearer "+ownerA.AccessToken), http.StatusOK)
			return v.Usage.TasksStarted == 1 && v.Usage.TaskMinutes == 1
		})
		month := time.Now().UTC().Format("2006-01")
		if v.Plan != "trial" || v.Period != month || v.Estimate != (wire.Money{Amount: 0, Currency: "usd"}) || len(v.Lines) != 4 ||
			v.TrialEndsAt.IsZero() || time.Until(v.TrialEndsAt.Time) > 7*24*time.Hour || v.Lines[1].Meter != "task_minutes" || v.Lines[1].Quantity != 1 {
			t.Errorf("billing view %+v", v)
		}
		past := decode[wire.Billing](t, b.send(t, "GET", "/v1/billing?period=2025-02", "", "Authorization", "Bearer "+ownerA.AccessToken), http.StatusOK)
		if past.From != "2025-02-01" || past.To != "2025-02-28" || past.Usage.TasksStarted != 0 {
			t.Errorf("billing of 2025-02: %+v", past)
		}

		// Tenant A's owner is an admin in "payer": no billing there.
		inPayer := decode[tokens](t, b.send(t, "POST", "/v1/auth/login", `{"email":"`+tenantA+`@example.com","password":"`+testPassword+`","tenant_id":"`+reg.TenantID+`"}`), http.StatusOK)
		for name, hdr := range map[string][]string{
			"an admin":                   {"Authorization", "Bearer " + inPayer.AccessToken},
			"an API key with tasks:*":    {"Authorization", "Bearer " + b.keys[tenantA]},
			"another tenant's tasks key": {"Authorization", "Bearer " + b.keys[tenantB]},
		} {
			p := decode[wire.Problem](t, b.send(t, "GET", "/v1/billing", "", hdr...), http.StatusForbidden)
			if p.Detail == "" {
				t.Errorf("%s: %+v", name, p)
			}
		}
		decode[wire.Problem](t, b.send(t, "GET", "/v1/billing?tenant_id="+b.tenants[tenantB], "", "Authorization", "Bearer "+ownerA.AccessToken), http.StatusNotFound)
		decode[wire.Problem](t, b.send(t, "GET", "/v1/billing?tenant_id="+reg.TenantID, "", "Authorization", "Bearer "+ownerA.AccessToken), http.StatusNotFound)
		mine := decode[wire.Billing](t, b.send(t, "GET", "/v1/billing?tenant_id="+reg.TenantID, "", owner...), http.StatusOK)
		if mine.Plan != "trial" || mine.Usage.TasksStarted != 0 {
			t.Errorf("payer's view: %+v", mine)
		}
		for _, q := range []string{"?period=26-12", "?from=2026-12-01&to=2026-12-02"} {
			decode[wire.Problem](t, b.send(t, "GET", "/v1/billing"+q, "", owner...), http.StatusBadRequest)
		}
	})
}

// TestStripeRoutes: an owner gets a Checkout page and then a portal page
// from stripe-mock; a signed webhook puts the tenant on the plan, once;
// a bad signature is a 400 naming the header; others may not check out.
func TestStripeRoutes(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{usage: true, stripe: teststripe.URL(t)}, func(t *testing.T, b *bundle) {
		reg := decode[tokens](t, b.send(t, "POST", "/v1/auth/register", `{"email":"buyer@example.com","password":"`+testPassword+`","tenant_name":"buyer"}`), http.StatusCreated)
		owner := []string{"Authorization", "Bearer " + reg.AccessToken}
		decode[wire.Problem](t, b.send(t, "POST", "/v1/billing/portal", "", owner...), http.StatusConflict)
		for body, field := range map[string]string{`{"plan":"gold"}`: "plan", `{"plan":"trial"}`: "plan", `{"plan":"pro","x":1}`: "x"} {
			if p := decode[wire.Problem](t, b.send(t, "POST", "/v1/billing/checkout", body, owner...), http.StatusBadRequest); p.Field != field {
				t.Errorf("checkout %s: field %q, want %q", body, p.Field, field)
			}
		}
		if s := decode[wire.BillingSession](t, b.send(t, "POST", "/v1/billing/checkout", `{"plan":"pro"}`, owner...), http.StatusOK); s.URL == "" {
			t.Fatal("checkout without a URL")
		}
		if s := decode[wire.BillingSession](t, b.send(t, "POST", "/v1/billing/portal", "", owner...), http.StatusOK); s.URL == "" {
			t.Fatal("portal without a URL")
		}
		decode[wire.Problem](t, b.send(t, "POST", "/v1/billing/checkout", `{"plan":"pro"}`, "Authorization", "Bearer "+b.keys[tenantA]), http.StatusForbidden)

		event := fmt.Appendf(nil, `{"id":"evt_http","object":"event","type":"customer.subscription.created","created":%d,"data":{"object":`+
			`{"id":"sub_1","object":"subscription","status":"active","customer":"cus_A","metadata":{"tenant_id":%q},`+
			`"items":{"object":"list","data":[{"id":"si_1","object":"subscription_item","price":{"id":"price_pro","object":"price"}}]}}}}`,
			time.Now().Unix(), reg.TenantID)
		signed := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: event, Secret: stripeSecret}).Header
		for range 2 {
			if r := decode[wire.WebhookReceived](t, b.send(t, "POST", "/v1/billing/stripe/webhook", string(event), "Stripe-Signature", signed), http.StatusOK); !r.Received {
				t.Fatal("webhook not received")
			}
		}
		forged := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: event, Secret: "whsec_forged"}).Header
		if p := decode[wire.Problem](t, b.send(t, "POST", "/v1/billing/stripe/webhook", string(event), "Stripe-Signature", forged), http.StatusBadRequest); p.Field != "Stripe-Signature" {
			t.Errorf("a forged webhook: %+v", p)
		}
		if v := decode[wire.Billing](t, b.send(t, "GET", "/v1/billing", "", owner...), http.StatusOK); v.Plan != "pro" || !v.TrialEndsAt.IsZero() || v.Estimate.Amount < 2900 {
			t.Errorf("after the subscription: %+v", v)
		}
	})
}

// TestStripeRoutesOffByDefault: without billing enabled the Stripe routes
// do not exist.
func TestStripeRoutesOffByDefault(t *testing.T) {
	t.Parallel()
	b := bundleOn(t, teststores.Engines[0], setupOpts{usage: true})
	for _, path := range []string{"/v1/billing/checkout", "/v1/billing/portal", "/v1/billing/stripe/webhook"} {
		decode[wire.Problem](t, b.do(t, "POST", path, tenantA, `{"plan":"pro"}`), http.StatusNotFound)
	}
}

// TestTrialEndedAnswers402: eight days after its registration a tenant
// still on the trial gets 402 trial-ended for a start.
func TestTrialEndedAnswers402(t *testing.T) {
	t.Parallel()
	later := func() time.Time { return time.Now().AddDate(0, 0, 8) }
	b := bundleOn(t, teststores.Engines[0], setupOpts{plans: map[string]string{}, now: later})
	p := decode[wire.Problem](t, b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"t","adapter":"mock","args":`+mockArgs+`}`), http.StatusPaymentRequired)
	if p.Type != wire.ProblemTypeBase+"trial-ended" || !strings.Contains(p.Detail, "trial ended") {
		t.Errorf("a start after the trial: %+v", p)
	}
}
