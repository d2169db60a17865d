package readapi_test

import (
	"net/http"
	"testing"
	"time"

	wire "github.com/axontask/axontask/api"
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
		decode[map[string]string](t, b.send(t, "POST", "/v1/members", `{"email":"`+tenantA+`@example.com","role":"admin"}`, owner...), http.StatusCreated)
		s := b.start(t)
		b.run(t, s.TaskID)
		// Tenant A's owner: the trial, free, ending 7 days after the tenant was created.
		ownerA := decode[tokens](t, b.send(t, "POST", "/v1/auth/login", `{"email":"`+tenantA+`@example.com","password":"`+testPassword+`","tenant_id":"`+b.tenants[tenantA]+`"}`), http.StatusOK)
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
