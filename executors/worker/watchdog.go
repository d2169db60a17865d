package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/projections"
)

// Defaults of WatchdogConfig.
const (
	DefaultMaxAttempts      = 3
	DefaultSweepInterval    = 5 * time.Second
	DefaultStaleQueuedAfter = 30 * time.Second
)

// WatchdogConfig configures a Watchdog.
type WatchdogConfig struct {
	// MaxAttempts bounds the interrupted attempts of a task: a task whose
	// lease is lost for the MaxAttempts-th time fails instead of being
	// re-queued (default 3). Attempts that failed by themselves and were
	// retried under the task's retry policy do not count; a task whose
	// on_interrupt is "fail" fails at its first lost lease.
	MaxAttempts int
	// SweepInterval is how often expired leases and stale queued tasks are
	// looked for (default 5 s).
	SweepInterval time.Duration
	// StaleQueuedAfter is how long a task may stay queued, with no worker
	// claiming it and no limit holding it back, before it is taken for one
	// whose work message was lost (default 30 s).
	StaleQueuedAfter time.Duration
	// NowFunc is the clock (default time.Now).
	NowFunc func() time.Time
	// Logger receives what the watchdog did (default slog.Default()).
	Logger *slog.Logger
}

// WatchdogStore is what the Watchdog needs of the event store: what a
// Runner needs, and the task list's queued tasks that no worker took.
type WatchdogStore interface {
	Store
	projections.StaleQueuedStore
}

// Watchdog recovers the tasks of workers that died: it finds leases that
// expired, appends task.lease_lost and then task.queued for the next
// attempt, task.failed once MaxAttempts is spent or when the task's
// on_interrupt is "fail", or task.timed_out when the task's timeout has
// passed. Every append is at the stream's expected
// seq, so any number of watchdogs may run at once: for each lease one
// wins and the others skip it. It also adopts queued tasks whose work
// message was lost (see SweepQueued).
type Watchdog struct {
	store WatchdogStore
	w     commands.Writer
	cfg   WatchdogConfig
}

// NewWatchdog returns a watchdog over store.
func NewWatchdog(store WatchdogStore, cfg WatchdogConfig) *Watchdog {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.StaleQueuedAfter <= 0 {
		cfg.StaleQueuedAfter = DefaultStaleQueuedAfter
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// One attempt: a conflict means the task's worker appended since the
	// lease was read, so it may be alive after all; the next sweep reads the
	// lease again rather than take the task away at once.
	return &Watchdog{store: store, w: commands.Writer{Store: store, MaxAttempts: 1, NowFunc: cfg.NowFunc}, cfg: cfg}
}

// Run sweeps every SweepInterval until ctx ends.
func (w *Watchdog) Run(ctx context.Context) error {
	ticker := time.NewTicker(w.cfg.SweepInterval)
	defer ticker.Stop()
	// The ticker paces the sweeps; failures are logged once per outage.
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "watchdog: sweep", Logger: w.cfg.Logger}
	for {
		_, err := w.Sweep(ctx)
		if err == nil {
			_, err = w.SweepQueued(ctx)
		}
		switch {
		case err == nil:
			retry.Succeeded()
		case ctx.Err() == nil:
			retry.Note(ctx, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// SweepQueued adopts the tasks queued for longer than StaleQueuedAfter that
// no worker holds and no limit holds back: their work message was lost (a
// trimmed stream, a crash before the relay's copy), or every worker has been
// busy since (a backlog, which this cannot tell apart). See AdoptQueued.
func (w *Watchdog) SweepQueued(ctx context.Context) (int, error) {
	n, err := AdoptQueued(ctx, w.store, w.cfg.NowFunc().Add(-w.cfg.StaleQueuedAfter))
	if n > 0 {
		// A backlog that every worker is too busy for looks the same as a
		// lost message here; either way, the waiting list runs the tasks.
		w.cfg.Logger.Info("watchdog: put tasks queued with no worker on the waiting list: their work message was lost, or every worker is busy",
			"tasks", n, "after", w.cfg.StaleQueuedAfter)
	}
	return n, err
}

// QueuedAdopter is what AdoptQueued needs of the store.
type QueuedAdopter interface {
	projections.StaleQueuedStore
	TaskWaitingMark(ctx context.Context, taskID, tenantID string, since time.Time) error
}

// AdoptQueued marks waiting every task queued before before that no worker
// holds and that is not waiting already, so that the worker pools' waiting
// sweeps claim them (within DefaultWaitingSweepInterval), and returns how
// many it marked. It is how tasks whose work message the bus lost still
// run: the watchdog adopts those queued long ago, and a relay that sees
// the bus lose its messages adopts them all. It reads the task list read
// model, which may lag: a task adopted by mistake costs one failed claim.
func AdoptQueued(ctx context.Context, store QueuedAdopter, before time.Time) (int, error) {
	n := 0
	for {
		stale, err := store.TaskViewsStaleQueued(ctx, before, eventstore.MaxWaitingTasksLimit)
		if err != nil {
			return n, err
		}
		for _, st := range stale {
			if err := store.TaskWaitingMark(ctx, st.TaskID, st.TenantID, st.Since); err != nil {
				return n, err
			}
			n++
		}
		if len(stale) < eventstore.MaxWaitingTasksLimit {
			return n, nil
		}
	}
}

// Sweep handles the leases that have expired and returns how many tasks it
// moved on.
func (w *Watchdog) Sweep(ctx context.Context) (int, error) {
	leases, err := w.store.LeasesExpired(ctx, w.cfg.NowFunc(), 100)
	if err != nil {
		return 0, err
	}
	moved := 0
	var errs []error
	for _, l := range leases {
		ok, err := w.recover(ctx, l)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			moved++
		}
	}
	return moved, errors.Join(errs...)
}

// recover moves on the task of one expired lease, if that attempt still runs.
func (w *Watchdog) recover(ctx context.Context, l eventstore.Lease) (bool, error) {
	id, err := uuid.Parse(l.TaskID)
	if err != nil {
		return false, w.store.LeaseDrop(ctx, l.TaskID, l.Attempt) // not a task of ours
	}
	var task domain.Task
	if err := commands.CatchUpTask(ctx, w.store, id, l.TenantID, &task); err != nil {
		if errors.Is(err, commands.ErrTaskNotFound) {
			return false, w.store.LeaseDrop(ctx, l.TaskID, l.Attempt) // not a task: never recoverable
		}
		return false, fmt.Errorf("watchdog: load task %s: %w", l.TaskID, err)
	}
	to := commands.Target{
		Stream: eventstore.Stream{ID: l.TaskID, Type: domain.StreamTask, TenantID: l.TenantID},
		Meta:   domain.Metadata{Actor: "watchdog", CorrelationID: l.TaskID},
	}
	now := w.cfg.NowFunc()
	stored, err := commands.Update(ctx, w.w, to, &task, func(task *domain.Task) ([]domain.Payload, error) {
		return task.DecideLeaseExpired(l.WorkerID, l.Attempt, w.cfg.MaxAttempts, now)
	})
	switch {
	case errors.Is(err, domain.ErrAttemptOver):
		return false, w.store.LeaseDrop(ctx, l.TaskID, l.Attempt) // that attempt is over
	case errors.Is(err, eventstore.ErrConflict):
		return false, nil // the task moved on meanwhile; the next sweep looks again
	case err != nil:
		return false, fmt.Errorf("watchdog: task %s: %w", l.TaskID, err)
	}
	w.cfg.Logger.Info("watchdog: recovered a task whose lease expired", "task_id", l.TaskID, "worker_id", l.WorkerID, "attempt", l.Attempt, "then", stored[len(stored)-1].Type)
	return true, w.store.LeaseDrop(ctx, l.TaskID, l.Attempt)
}
