package webhooks

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultSchedule is the pause before each retry of a failed delivery:
// 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h six times — eleven retries over
// about 2.8 days, after which the delivery has failed. Each pause is drawn
// within ±20 % (jitter), so that retries of many deliveries spread out.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// ParseSchedule parses WEBHOOK_RETRY_SCHEDULE: comma-separated Go
// durations ("5s,5m,30m"), the pause before each retry; empty gives
// DefaultSchedule. Tests shorten the schedule through it.
func ParseSchedule(spec string) ([]time.Duration, error) {
	if strings.TrimSpace(spec) == "" {
		return DefaultSchedule, nil
	}
	var out []time.Duration
	for _, s := range strings.Split(spec, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("WEBHOOK_RETRY_SCHEDULE: %q is no positive duration; write pauses like 5s,5m,30m", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// jitter returns d drawn within ±20 %.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
