package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
)

// Names of task start's retry flags.
const (
	flagMaxAttempts      = "max-attempts"
	flagRetryInterval    = "retry-interval"
	flagRetryMaxInterval = "retry-max-interval"
	flagRetryBackoff     = "retry-backoff"
	flagNonRetryable     = "non-retryable-exit-codes"
)

// retryFlagSet holds task start's flags of a retry policy.
type retryFlagSet struct {
	fs                           *flag.FlagSet
	maxAttempts                  *int
	initialInterval, maxInterval *time.Duration
	backoff                      *float64
	nonRetryable                 *string
}

// retryFlags declares task start's retry flags on fs.
func retryFlags(fs *flag.FlagSet) *retryFlagSet {
	r := &retryFlagSet{fs: fs}
	r.maxAttempts = fs.Int(flagMaxAttempts, 0, fmt.Sprintf("run the task again after a failed attempt, up to this many attempts in all (1–%d; default: one attempt)", domain.MaxRetryAttempts))
	r.initialInterval = fs.Duration(flagRetryInterval, 0, "with -max-attempts: the wait before the second attempt (default 1s)")
	r.backoff = fs.Float64(flagRetryBackoff, 0, "with -max-attempts: what each wait is multiplied by, 1–10 (default 2)")
	r.maxInterval = fs.Duration(flagRetryMaxInterval, 0, "with -max-attempts: the longest wait (default 100 times -retry-interval)")
	r.nonRetryable = fs.String(flagNonRetryable, "", "with -max-attempts: exit statuses that end the task at once, like 2,3")
	return r
}

// given reports whether the command line set the flag name.
func (r *retryFlagSet) given(name string) bool {
	found := false
	r.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// policy returns the retry policy the flags give, nil when -max-attempts
// is not given; the server checks the bounds.
func (r *retryFlagSet) policy() (*domain.RetryPolicy, error) {
	if !r.given(flagMaxAttempts) {
		for _, name := range []string{flagRetryInterval, flagRetryMaxInterval, flagRetryBackoff, flagNonRetryable} {
			if r.given(name) {
				return nil, usageError(fmt.Sprintf("-%s needs -max-attempts, the attempts in all, like -max-attempts 3", name))
			}
		}
		return nil, nil
	}
	p := &domain.RetryPolicy{MaxAttempts: *r.maxAttempts, BackoffCoefficient: *r.backoff,
		InitialIntervalMS: millis(*r.initialInterval), MaxIntervalMS: millis(*r.maxInterval)}
	if *r.initialInterval < 0 || *r.maxInterval < 0 {
		return nil, usageError("-retry-interval and -retry-max-interval must be positive, like 1s")
	}
	if *r.nonRetryable != "" {
		for _, f := range strings.Split(*r.nonRetryable, ",") {
			code, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, usageError(fmt.Sprintf("-%s: %q is not an exit status; give numbers like 2,3", flagNonRetryable, f))
			}
			p.NonRetryableExitCodes = append(p.NonRetryableExitCodes, code)
		}
	}
	return p, nil
}

// millis returns d in whole milliseconds, rounded up.
func millis(d time.Duration) int {
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int(ms)
}
