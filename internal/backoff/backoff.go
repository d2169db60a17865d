// Package backoff paces the retries of calls to a dependency that fails
// (Postgres, Redis) and logs the dependency's state changes only: one line
// when calls start failing, one when they succeed again, never one per
// attempt. Logs stay readable exactly when an operator reads them.
package backoff

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Retry.Min and Retry.Max.
const (
	DefaultMin = 100 * time.Millisecond
	DefaultMax = 5 * time.Second
)

// Retry is the state of one kind of call that is retried while it fails.
// The zero value with What set is ready to use; it is safe for concurrent
// use, so several goroutines making the same kind of call (a pool's slots)
// share one outage and log it once.
type Retry struct {
	// What names the call in the log lines ("relay: publish").
	What string
	// Logger receives the state changes (default slog.Default()).
	Logger *slog.Logger
	// Min is the first pause after a failure, Max the longest; the pause
	// doubles with each failure in a row (defaults DefaultMin, DefaultMax).
	Min, Max time.Duration

	// failing is set while failures is not 0: a success need not lock.
	failing  atomic.Bool
	mu       sync.Mutex
	failures int
	since    time.Time
	delay    time.Duration
}

// Failed records a failed call (see Note) and waits the pause Note
// returns. It returns ctx's error if ctx ends first, else nil.
func (r *Retry) Failed(ctx context.Context, err error) error {
	t := time.NewTimer(r.Note(ctx, err))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Note records a failed call and returns how long to wait before the next
// attempt: a pause drawn between half and all of the current delay
// (jitter, so that many processes do not retry in step), which doubles up
// to Max while failures repeat. The first failure of a run is logged at
// warning level with err; the others are not. A caller that does not
// retry (it carries on without the dependency) ignores the pause.
func (r *Retry) Note(ctx context.Context, err error) time.Duration {
	r.mu.Lock()
	lo, hi := r.Min, r.Max
	if lo <= 0 {
		lo = DefaultMin
	}
	if hi < lo {
		hi = max(DefaultMax, lo)
	}
	r.failures++
	r.failing.Store(true)
	first := r.failures == 1
	if first {
		r.since, r.delay = time.Now(), lo
	} else {
		r.delay = min(2*r.delay, hi)
	}
	d := r.delay/2 + rand.N(r.delay/2+1)
	r.mu.Unlock()
	if first {
		r.logger().WarnContext(ctx, r.What+" failed; retrying until it succeeds, logging only when it does", "err", err)
	}
	return d
}

// Succeeded records a successful call; after failures it logs, once, that
// the call works again, how long it failed and how many attempts failed.
// Without a failure before, it costs an atomic load: call it on hot paths.
func (r *Retry) Succeeded() {
	if !r.failing.Load() {
		return
	}
	r.mu.Lock()
	n, since := r.failures, r.since
	r.failures = 0
	r.failing.Store(false)
	r.mu.Unlock()
	if n > 0 {
		r.logger().Info(r.What+" works again", "failed_for", time.Since(since).Round(time.Millisecond), "failed_attempts", n)
	}
}

// Failing reports whether the last recorded call failed.
func (r *Retry) Failing() bool { return r.failing.Load() }

func (r *Retry) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
