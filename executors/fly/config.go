package fly

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/axontask/axontask/internal/backoff"
)

// Defaults for Config.
const (
	DefaultAPIURL       = "https://api.machines.dev"
	DefaultLogsURL      = "https://api.fly.io"
	DefaultPollInterval = time.Second
	DefaultGracePeriod  = 10 * time.Second
	DefaultMaxAttempts  = 6
	DefaultRetryMin     = 500 * time.Millisecond
	DefaultRetryMax     = 30 * time.Second
	DefaultWaitTimeout  = 60 * time.Second
	DefaultLogSettle    = 3 * time.Second
	// cleanupTimeout bounds stopping and destroying a machine once the
	// task's context is done.
	cleanupTimeout = 2 * time.Minute
)

// Config configures an Executor. The zero value is usable: New fills in
// the defaults. Every field is the operator's: nothing in a task's args
// chooses where the executor connects.
type Config struct {
	// APIURL is the Machines API's base (default https://api.machines.dev;
	// FLY_API_URL in the CLI). Requests go to APIURL+"/v1/apps/…".
	APIURL string
	// LogsURL is the base of Fly's logs API (default https://api.fly.io;
	// FLY_LOGS_API_URL in the CLI): APIURL+"/api/v1/apps/{app}/logs".
	LogsURL string
	// HTTPClient makes the calls (default: a client without a timeout,
	// since /wait holds a request up to a minute; calls end with the
	// task's context).
	HTTPClient *http.Client
	// PollInterval is how often a run's logs are read, and a deploy's
	// health checks looked at (default 1 s).
	PollInterval time.Duration
	// LogSettle is how long a run's logs are still read once its machine
	// has stopped, after the last line that came (default 3 s): Fly
	// delivers logs a little late.
	LogSettle time.Duration
	// WaitTimeout is the timeout of each /wait call, 1 s to 60 s (default
	// 60 s); a wait that times out is made again until the task's own
	// timeout.
	WaitTimeout time.Duration
	// GracePeriod is how long a canceled run's machine has between
	// SIGTERM and SIGKILL (default 10 s).
	GracePeriod time.Duration
	// MaxAttempts bounds the calls made for one request that is rate
	// limited (429) or fails (5xx, no answer) (default 6); RetryMin and
	// RetryMax bound the pause between them (defaults 0.5 s and 30 s),
	// which doubles each time; a longer Retry-After is honoured up to
	// RetryMax.
	MaxAttempts        int
	RetryMin, RetryMax time.Duration
	// SleepFunc waits d, or returns ctx's error when ctx ends first
	// (default: a timer). Tests inject one that does not wait.
	SleepFunc func(ctx context.Context, d time.Duration) error
	// Logger receives what the executor cannot report to a task: a
	// machine it could not destroy (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	c.APIURL = strings.TrimSuffix(cmp.Or(c.APIURL, DefaultAPIURL), "/")
	c.LogsURL = strings.TrimSuffix(cmp.Or(c.LogsURL, DefaultLogsURL), "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	c.WaitTimeout = cmp.Or(c.WaitTimeout, DefaultWaitTimeout)
	c.LogSettle = cmp.Or(c.LogSettle, DefaultLogSettle)
	c.GracePeriod = cmp.Or(c.GracePeriod, DefaultGracePeriod)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.RetryMin = cmp.Or(c.RetryMin, DefaultRetryMin)
	c.RetryMax = cmp.Or(c.RetryMax, DefaultRetryMax)
	if c.SleepFunc == nil {
		c.SleepFunc = backoff.Sleep
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate names the fields that cannot work.
func (c Config) validate() error {
	var errs []error
	for _, f := range [][2]string{{"APIURL", c.APIURL}, {"LogsURL", c.LogsURL}} {
		name, u := f[0], f[1]
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.RawQuery != "" {
			errs = append(errs, fmt.Errorf("fly executor: %s %q must be an http(s) URL like %q", name, u, DefaultAPIURL))
		}
	}
	if c.WaitTimeout < time.Second || c.WaitTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("fly executor: WaitTimeout %s must be between 1s and 1m", c.WaitTimeout))
	}
	if c.PollInterval < 0 || c.GracePeriod < 0 || c.LogSettle < 0 || c.MaxAttempts < 1 || c.RetryMin < 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, errors.New("fly executor: PollInterval, GracePeriod, LogSettle, RetryMin must not be negative, MaxAttempts at least 1, RetryMax at least RetryMin"))
	}
	return errors.Join(errs...)
}
