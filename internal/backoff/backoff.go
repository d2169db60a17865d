// Package backoff paces the retries of calls to a dependency that fails
// (Postgres, Redis) and logs the dependency's state changes only: one line
// when calls start failing, one when they succeed again, never one per
// attempt. Logs stay readable exactly when an operator reads them. The
// process's outages are also counted for its metrics (Snapshot).
package backoff

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Dependencies, as Retry.Dependency names them.
const (
	// DependencyStore is the event store (Postgres, or SQLite).
	DependencyStore = "store"
	// DependencyBus is the bus (Redis), and the rate limiter kept there.
	DependencyBus = "bus"
	// DependencyWitness is a witness of the transparency log, which
	// cosigns its checkpoints.
	DependencyWitness = "witness"
	// DependencyStripe is the payment provider, with billing on.
	DependencyStripe = "stripe"
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
	// Dependency names what the call depends on, as the metrics label it:
	// DependencyStore, DependencyBus or DependencyWitness.
	Dependency string
	// What names the call in the log lines and the metrics ("relay:
	// publish to the bus").
	What string
	// Meanwhile, if set, says in the failure's log line what happens
	// while the call fails ("output waits in its buffer").
	Meanwhile string
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
	return Sleep(ctx, r.Note(ctx, err))
}

// Sleep waits d, or until ctx ends: then it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
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
		st := stateOf(r.Dependency, r.What)
		st.failing.Add(1)
		st.outages.Add(1)
	}
	if first {
		r.since, r.delay = time.Now(), lo
	} else {
		r.delay = min(2*r.delay, hi)
	}
	d := r.delay/2 + rand.N(r.delay/2+1)
	r.mu.Unlock()
	if first {
		msg := r.What + " failed; retrying until it succeeds, logging only when it does"
		if r.Meanwhile != "" {
			msg += " (meanwhile " + r.Meanwhile + ")"
		}
		r.logger().WarnContext(ctx, msg, "err", err)
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
		stateOf(r.Dependency, r.What).failing.Add(-1)
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

// CallState is the state of one kind of call in this process, for metrics.
type CallState struct {
	Dependency, What string
	// Failing is how many of the process's callers are failing now.
	Failing int64
	// Outages counts the runs of failures since the process started.
	Outages int64
}

type state struct{ failing, outages atomic.Int64 }

// states maps a call's dependency and name to its state.
var states sync.Map

func stateOf(dependency, what string) *state {
	key := [2]string{dependency, what}
	if st, ok := states.Load(key); ok {
		return st.(*state)
	}
	st, _ := states.LoadOrStore(key, &state{})
	return st.(*state)
}

// Snapshot returns the state of every kind of call that has failed in
// this process, ordered by dependency and name.
func Snapshot() []CallState {
	var out []CallState
	states.Range(func(k, v any) bool {
		key, st := k.([2]string), v.(*state)
		out = append(out, CallState{Dependency: key[0], What: key[1], Failing: st.failing.Load(), Outages: st.outages.Load()})
		return true
	})
	slices.SortFunc(out, func(a, b CallState) int {
		return cmp.Or(cmp.Compare(a.Dependency, b.Dependency), cmp.Compare(a.What, b.What))
	})
	return out
}
