package wiring

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/axontask/axontask/billing"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/plans"
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

// BillingViews returns the billing views of catalog's prices on store,
// with a trial of TRIAL_DAYS read through getenv (a whole number of days,
// 1 to 366; default billing.DefaultTrialDays).
func BillingViews(store billing.Store, catalog plans.Catalog, getenv func(string) string) (*billing.Views, error) {
	cfg := billing.Config{Store: store, Catalog: catalog}
	if s := getenv("TRIAL_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 366 {
			return nil, fmt.Errorf("TRIAL_DAYS is %q; set it to a whole number of days from 1 to 366", s)
		}
		cfg.TrialDays = n
	}
	return billing.NewViews(cfg)
}
