package wiring

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/billing"
	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/plans"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/usage"
)

// UsageMeter returns the usage meter of an API process on store, flushing
// every USAGE_FLUSH_INTERVAL read through getenv (a Go duration such as
// 1m or 15s, from usage.MinFlushInterval to usage.MaxFlushInterval;
// default usage.DefaultFlushInterval). Run it beside the API.
func UsageMeter(store commands.StreamStore, getenv func(string) string, logger *slog.Logger) (*usage.Meter, error) {
	cfg := usage.Config{Store: store, Logger: logger}
	if s := getenv("USAGE_FLUSH_INTERVAL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < usage.MinFlushInterval || d > usage.MaxFlushInterval {
			return nil, fmt.Errorf("USAGE_FLUSH_INTERVAL is %q; set it to a duration from %s to %s, such as 30s", s, usage.MinFlushInterval, usage.MaxFlushInterval)
		}
		cfg.FlushInterval = d
	}
	return usage.NewMeter(cfg)
}

// BillingViews returns the billing views of catalog's prices and trial on
// store.
func BillingViews(store billing.Store, catalog plans.Catalog) (*billing.Views, error) {
	return billing.NewViews(billing.Config{Store: store, Catalog: catalog})
}

// StripeBilling returns the Stripe side of billing on store when
// BILLING_ENABLED (read through getenv) is true, and nil — nothing that
// could call Stripe — when it is unset or false. It reads
// STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_<P> (the Stripe
// price of each plan one may subscribe to), BILLING_SUCCESS_URL,
// BILLING_CANCEL_URL, BILLING_RETURN_URL, BILLING_FALLBACK_PLAN (the plan
// of a tenant whose subscription ended; default the catalog's default
// plan) and STRIPE_API_URL (another API address, such as a stripe-mock's).
func StripeBilling(store commands.StreamStore, catalog plans.Catalog, getenv func(string) string, logger *slog.Logger) (*stripebilling.Service, error) {
	switch v := getenv("BILLING_ENABLED"); v {
	case "", "false":
		return nil, nil
	case "true":
	default:
		return nil, fmt.Errorf("BILLING_ENABLED is %q; set it to true or false", v)
	}
	cfg := stripebilling.Config{
		SecretKey: getenv("STRIPE_SECRET_KEY"), WebhookSecret: getenv("STRIPE_WEBHOOK_SECRET"), APIURL: getenv("STRIPE_API_URL"),
		SuccessURL: getenv("BILLING_SUCCESS_URL"), CancelURL: getenv("BILLING_CANCEL_URL"), ReturnURL: getenv("BILLING_RETURN_URL"),
		FallbackPlan: catalog.Get("").Name, PriceIDs: map[domain.PlanName]string{}, Store: store, Logger: logger,
	}
	if s := getenv("BILLING_FALLBACK_PLAN"); s != "" {
		p, err := domain.ParsePlanName(s)
		if err != nil {
			return nil, fmt.Errorf("BILLING_FALLBACK_PLAN: %w", err)
		}
		cfg.FallbackPlan = p
	}
	if s := getenv("BILLING_GRACE_DAYS"); s != "" {
		days, err := strconv.Atoi(s)
		if err != nil || days < 1 || days > 90 {
			return nil, fmt.Errorf("BILLING_GRACE_DAYS is %q; set it to a whole number of days from 1 to 90 (default 7)", s)
		}
		cfg.GracePeriod = time.Duration(days) * 24 * time.Hour
	}
	for _, p := range catalog.All() {
		if id := getenv("STRIPE_PRICE_" + strings.ToUpper(string(p.Name))); id != "" {
			cfg.PriceIDs[p.Name] = id
		}
	}
	if len(cfg.PriceIDs) == 0 {
		return nil, errors.New("BILLING_ENABLED is true but no plan has a Stripe price: set STRIPE_PRICE_ENTRY, STRIPE_PRICE_PRO and/or STRIPE_PRICE_ENT")
	}
	return stripebilling.New(cfg)
}

// StripeMeterReporter returns the reporter of usage to the Stripe Billing
// Meters named by STRIPE_METER_TASK_MINUTES, STRIPE_METER_STREAMS and
// STRIPE_METER_BYTES_STREAMED (read through getenv), keeping its place in
// cursor; nil when sb is nil (billing off) or no meter is named.
func StripeMeterReporter(sb *stripebilling.Service, usage projections.UsageStore, cursor stripebilling.Cursor, getenv func(string) string, logger *slog.Logger) (*stripebilling.Reporter, error) {
	names := stripebilling.MeterNames{TaskMinutes: getenv("STRIPE_METER_TASK_MINUTES"), Streams: getenv("STRIPE_METER_STREAMS"), BytesStreamed: getenv("STRIPE_METER_BYTES_STREAMED")}
	if sb == nil || names == (stripebilling.MeterNames{}) {
		return nil, nil
	}
	return sb.NewReporter(stripebilling.ReporterConfig{Usage: usage, Cursor: cursor, Meters: names, Logger: logger})
}
