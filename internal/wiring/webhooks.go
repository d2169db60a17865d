package wiring

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/webhooks"
)

// WebhookStore is what the webhook handlers need of the store: the webhook
// streams, the secrets and the deliveries beside them.
type WebhookStore interface {
	commands.IdentityStore
	commands.WebhookSecrets
	commands.WebhookDeliveryLog
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
		Store: store, Secrets: store, Deliveries: store, NewSecretFunc: webhooks.NewSecret, CheckURLFunc: guard.CheckURL, AllowHTTP: allowHTTP,
	})
	if err != nil {
		return commands.WebhookHandlers{}, err
	}
	return h.Decorated(logger, metrics), nil
}

// WebhookDeliveryStore is what the delivery side needs of the store.
type WebhookDeliveryStore interface {
	webhooks.SenderStore
	webhooks.DispatchStore
	projections.Feed
}

// MaxWebhookConcurrent bounds WEBHOOK_MAX_CONCURRENT: each attempt in
// flight holds a connection and a goroutine.
const MaxWebhookConcurrent = 1024

// WebhookDelivery returns the delivery side on store, as getenv configures
// it: the dispatcher's runner (run one per deployment, elected, or several:
// they are safe) and the sender (run one per process). WEBHOOK_ALLOWED_HOSTS
// is the guard's allow-list, WEBHOOK_RETRY_SCHEDULE the retries' pauses
// (webhooks.ParseSchedule), WEBHOOK_TIMEOUT an attempt's bound (default
// 15s), WEBHOOK_MAX_CONCURRENT the process's attempts in flight (default
// webhooks.DefaultMaxConcurrent, at most MaxWebhookConcurrent).
func WebhookDelivery(store WebhookDeliveryStore, getenv func(string) string, logger *slog.Logger) (*projections.Runner, *webhooks.Sender, error) {
	return ObservedWebhookDelivery(store, getenv, logger, nil)
}

// ObservedWebhookDelivery is WebhookDelivery whose sender tells observe
// of every attempt (webhooks.SenderConfig's ObserveFunc; nil: nothing).
func ObservedWebhookDelivery(store WebhookDeliveryStore, getenv func(string) string, logger *slog.Logger, observe func(eventstore.DeliveryState, time.Duration)) (*projections.Runner, *webhooks.Sender, error) {
	guard, err := WebhookGuard(getenv)
	if err != nil {
		return nil, nil, err
	}
	schedule, err := webhooks.ParseSchedule(getenv("WEBHOOK_RETRY_SCHEDULE"))
	if err != nil {
		return nil, nil, err
	}
	timeout := webhooks.DefaultTimeout
	if v := getenv("WEBHOOK_TIMEOUT"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			return nil, nil, fmt.Errorf("WEBHOOK_TIMEOUT is %q; set it to a duration such as 15s", v)
		}
	}
	concurrent := webhooks.DefaultMaxConcurrent
	if v := getenv("WEBHOOK_MAX_CONCURRENT"); v != "" {
		if concurrent, err = strconv.Atoi(v); err != nil || concurrent < 1 || concurrent > MaxWebhookConcurrent {
			return nil, nil, fmt.Errorf("WEBHOOK_MAX_CONCURRENT is %q; set it to a whole number from 1 to %d", v, MaxWebhookConcurrent)
		}
	}
	sender, err := webhooks.NewSender(webhooks.SenderConfig{Store: store, Guard: guard, Schedule: schedule, Timeout: timeout, MaxConcurrent: concurrent,
		Logger: logger, ObserveFunc: observe})
	if err != nil {
		return nil, nil, err
	}
	runner, err := projections.NewRunner(store, webhooks.NewDispatcher(store, sender.Nudge, nil), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return runner, sender, nil
}
