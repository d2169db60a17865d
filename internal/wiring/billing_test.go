package wiring_test

import (
	"strings"
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/plans"
)

// TestStripeBillingGraceDays: BILLING_GRACE_DAYS takes whole days from 1
// to 90; anything else is refused, naming it.
func TestStripeBillingGraceDays(t *testing.T) {
	t.Parallel()
	s := teststores.OpenSQLite(t, eventstore.Options{})
	env := map[string]string{"BILLING_ENABLED": "true", "STRIPE_SECRET_KEY": "sk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1", "STRIPE_PRICE_PRO": "price_pro",
		"BILLING_SUCCESS_URL": "https://a.example/ok", "BILLING_CANCEL_URL": "https://a.example/no", "BILLING_RETURN_URL": "https://a.example/"}
	for days, ok := range map[string]bool{"": true, "14": true, "0": false, "91": false, "7d": false} {
		env["BILLING_GRACE_DAYS"] = days
		svc, err := wiring.StripeBilling(s, plans.Default(), func(k string) string { return env[k] }, nil)
		if ok != (err == nil && svc != nil) || (!ok && !strings.Contains(err.Error(), "BILLING_GRACE_DAYS")) {
			t.Errorf("BILLING_GRACE_DAYS=%q: %v, %v", days, svc, err)
		}
	}
}
