package wiring

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/webhooks"
)

// WebhookStore is what the webhook handlers need of the store: the webhook
// streams and the secrets beside them.
type WebhookStore interface {
	commands.IdentityStore
	commands.WebhookSecrets
}

// WebhookGuard returns the delivery guard that getenv configures:
// WEBHOOK_ALLOWED_HOSTS (see webhooks.ParseAllowedHosts).
func WebhookGuard(getenv func(string) string) (*webhooks.Guard, error) {
	return webhooks.ParseAllowedHosts(getenv("WEBHOOK_ALLOWED_HOSTS"))
}

// Webhooks returns the webhook handlers on store, decorated with logger and
// metrics: URLs checked by the guard of getenv, http:// accepted only when
// WEBHOOK_ALLOW_HTTP is true.
func Webhooks(store WebhookStore, getenv func(string) string, logger *slog.Logger, metrics commands.MetricsClient) (commands.WebhookHandlers, error) {
	guard, err := WebhookGuard(getenv)
	if err != nil {
		return commands.WebhookHandlers{}, err
	}
	allowHTTP := false
	if v := getenv("WEBHOOK_ALLOW_HTTP"); v != "" {
		if allowHTTP, err = strconv.ParseBool(v); err != nil {
			return commands.WebhookHandlers{}, fmt.Errorf("WEBHOOK_ALLOW_HTTP is %q; set it to true or false", v)
		}
	}
	h, err := commands.NewWebhookHandlers(commands.WebhookConfig{
		Store: store, Secrets: store, NewSecretFunc: webhooks.NewSecret, CheckURLFunc: guard.CheckURL, AllowHTTP: allowHTTP,
	})
	if err != nil {
		return commands.WebhookHandlers{}, err
	}
	return h.Decorated(logger, metrics), nil
}
