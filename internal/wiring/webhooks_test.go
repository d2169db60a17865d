package wiring_test

import (
	"strings"
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/wiring"
)

// TestWebhookDeliveryEnvironment: the delivery side's variables are
// taken when valid; a bad value is refused naming its variable and what
// to set.
func TestWebhookDeliveryEnvironment(t *testing.T) {
	t.Parallel()
	s := teststores.OpenSQLite(t, eventstore.Options{})
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, _, err := wiring.WebhookDelivery(s, env(map[string]string{"WEBHOOK_TIMEOUT": "2s", "WEBHOOK_MAX_CONCURRENT": "1024",
		"WEBHOOK_RETRY_SCHEDULE": "1s,2s", "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}), nil); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"WEBHOOK_TIMEOUT":        "soon",
		"WEBHOOK_MAX_CONCURRENT": "1025",
		"WEBHOOK_RETRY_SCHEDULE": "5s,never",
	} {
		_, _, err := wiring.WebhookDelivery(s, env(map[string]string{name: value}), nil)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v; want an error naming the variable", name, value, err)
		}
	}
	if _, _, err := wiring.WebhookDelivery(s, env(map[string]string{"WEBHOOK_MAX_CONCURRENT": "0"}), nil); err == nil || !strings.Contains(err.Error(), "from 1 to 1024") {
		t.Errorf("WEBHOOK_MAX_CONCURRENT=0: %v; want the range to set", err)
	}
}
