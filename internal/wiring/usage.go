package wiring

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/axontask/axontask/commands"
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
