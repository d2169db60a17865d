package domain

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Limits and defaults of a task's retry policy (RetryPolicy), in
// Temporal's terms: an interval of 0 takes its default.
const (
	// MaxRetryAttempts bounds RetryPolicy.MaxAttempts.
	MaxRetryAttempts = 100
	// DefaultRetryInitialIntervalMS is the wait before the second attempt.
	DefaultRetryInitialIntervalMS = 1000
	// DefaultRetryBackoffCoefficient multiplies the wait after each attempt.
	DefaultRetryBackoffCoefficient = 2.0
	// MaxRetryBackoffCoefficient bounds RetryPolicy.BackoffCoefficient.
	MaxRetryBackoffCoefficient = 10.0
	// DefaultRetryMaxIntervalFactor: a policy without max_interval_ms waits
	// at most this many times its initial interval (Temporal's default).
	DefaultRetryMaxIntervalFactor = 100
	// MaxRetryIntervalMS bounds both intervals: one day.
	MaxRetryIntervalMS = 24 * 60 * 60 * 1000
	// MaxNonRetryableExitCodes bounds RetryPolicy.NonRetryableExitCodes.
	MaxNonRetryableExitCodes = 64
)

// RetryPolicy says how often a task that failed runs again, and how long
// it waits first; the names are Temporal's. Attempt n+1 is due
// InitialIntervalMS × BackoffCoefficient^(n-1) after attempt n failed, at
// most MaxIntervalMS. MaxAttempts counts every attempt, those a dead worker
// interrupted too. A task without a policy runs once (MaxAttempts 1).
// Only failures retry: a process's nonzero exit status (unless it is one
// of NonRetryableExitCodes), a process that could not start, an executor
// that failed. A timeout, a cancel or a limit of the plan ends the task.
//
// Fields are in the order RFC 8785 sorts their JSON names.
type RetryPolicy struct {
	BackoffCoefficient    float64 `json:"backoff_coefficient"`
	InitialIntervalMS     int     `json:"initial_interval_ms"`
	MaxAttempts           int     `json:"max_attempts"`
	MaxIntervalMS         int     `json:"max_interval_ms"`
	NonRetryableExitCodes []int   `json:"non_retryable_exit_codes,omitempty"`
}

// Normalize validates p as a start request gave it and returns it with
// its defaults filled in (the form task.created stores). Errors are
// *ValidationError naming the field ("retry.max_attempts", …).
func (p RetryPolicy) Normalize() (RetryPolicy, error) {
	if p.MaxAttempts < 1 || p.MaxAttempts > MaxRetryAttempts {
		return p, &ValidationError{Field: "retry.max_attempts", Reason: fmt.Sprintf("is %d; it must be between 1 and %d (1 runs the task once)", p.MaxAttempts, MaxRetryAttempts)}
	}
	if p.InitialIntervalMS == 0 {
		p.InitialIntervalMS = DefaultRetryInitialIntervalMS
	}
	if p.InitialIntervalMS < 1 || p.InitialIntervalMS > MaxRetryIntervalMS {
		return p, &ValidationError{Field: "retry.initial_interval_ms", Reason: fmt.Sprintf("is %d; it must be between 1 and %d (a day), or 0 for the default %d", p.InitialIntervalMS, MaxRetryIntervalMS, DefaultRetryInitialIntervalMS)}
	}
	if p.BackoffCoefficient == 0 {
		p.BackoffCoefficient = DefaultRetryBackoffCoefficient
	}
	if math.IsNaN(p.BackoffCoefficient) || p.BackoffCoefficient < 1 || p.BackoffCoefficient > MaxRetryBackoffCoefficient {
		return p, &ValidationError{Field: "retry.backoff_coefficient", Reason: fmt.Sprintf("is %g; it must be between 1 and %g, or 0 for the default %g", p.BackoffCoefficient, MaxRetryBackoffCoefficient, DefaultRetryBackoffCoefficient)}
	}
	if p.MaxIntervalMS == 0 {
		p.MaxIntervalMS = min(p.InitialIntervalMS*DefaultRetryMaxIntervalFactor, MaxRetryIntervalMS)
	}
	if p.MaxIntervalMS < p.InitialIntervalMS || p.MaxIntervalMS > MaxRetryIntervalMS {
		return p, &ValidationError{Field: "retry.max_interval_ms", Reason: fmt.Sprintf("is %d; it must be between initial_interval_ms (%d) and %d (a day), or 0 for %d times initial_interval_ms", p.MaxIntervalMS, p.InitialIntervalMS, MaxRetryIntervalMS, DefaultRetryMaxIntervalFactor)}
	}
	if len(p.NonRetryableExitCodes) > MaxNonRetryableExitCodes {
		return p, &ValidationError{Field: "retry.non_retryable_exit_codes", Reason: fmt.Sprintf("has %d codes; the limit is %d", len(p.NonRetryableExitCodes), MaxNonRetryableExitCodes)}
	}
	codes := slices.Clone(p.NonRetryableExitCodes)
	slices.Sort(codes)
	for i, c := range codes {
		if c < 1 || c > 255 {
			return p, &ValidationError{Field: "retry.non_retryable_exit_codes", Reason: fmt.Sprintf("holds %d; exit statuses that fail are between 1 and 255", c)}
		}
		if i > 0 && codes[i-1] == c {
			return p, &ValidationError{Field: "retry.non_retryable_exit_codes", Reason: fmt.Sprintf("holds %d twice; name each code once", c)}
		}
	}
	if len(codes) == 0 {
		codes = nil
	}
	p.NonRetryableExitCodes = codes
	return p, nil
}

// Backoff returns how long the attempt after attempt waits once attempt
// failed: InitialIntervalMS × BackoffCoefficient^(attempt-1), at most
// MaxIntervalMS, in whole milliseconds.
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	ms := float64(p.InitialIntervalMS) * math.Pow(p.BackoffCoefficient, float64(max(attempt-1, 0)))
	ms = min(ms, float64(p.MaxIntervalMS))
	return time.Duration(ms) * time.Millisecond
}

// retryable reports whether an attempt that failed with exit status code
// (nil: no process exited) may be followed by another under p.
func (p RetryPolicy) retryable(code *int) bool {
	return code == nil || !slices.Contains(p.NonRetryableExitCodes, *code)
}

// OnInterrupt says what becomes of a task whose worker died (or shut down)
// while it ran.
type OnInterrupt string

// Values of OnInterrupt.
const (
	// OnInterruptRetry queues the task again (at-least-once, the default):
	// its next attempt starts from the beginning.
	OnInterruptRetry OnInterrupt = "retry"
	// OnInterruptFail fails the task with a reason instead: it never runs
	// twice (at-most-once).
	OnInterruptFail OnInterrupt = "fail"
)

// ValidateOnInterrupt checks an on_interrupt a start request gave ("" is
// the default, OnInterruptRetry).
func ValidateOnInterrupt(o OnInterrupt) error {
	switch o {
	case "", OnInterruptRetry, OnInterruptFail:
		return nil
	}
	return &ValidationError{Field: "on_interrupt", Reason: fmt.Sprintf("is %q; use \"retry\" (run it again, the default) or \"fail\" (never run it twice)", o)}
}
