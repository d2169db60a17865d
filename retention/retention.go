// Package retention prunes finished tasks whose plan's retention has
// passed: their events keep their place in the chain and their digests,
// but lose their payloads and salts (docs/integrity.md), so a task's log
// still verifies while its output is gone.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Store is what the job needs: the tasks to prune, listed through the task
// list read model (projections.EndedTaskStore), and pruning them
// (eventstore.PruneStore). The engines' stores have both.
type Store interface {
	TaskViewsTenantsWithEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error)
	TaskViewsEndedOfTenant(ctx context.Context, tenantID string, endedBefore time.Time, limit int) ([]string, error)
	TaskPrune(ctx context.Context, taskID string, at time.Time) (int, error)
}

// DefaultInterval is how often Run prunes.
const DefaultInterval = time.Hour

// pageSize is how many tenants or tasks one query returns.
const pageSize = 100

// Config configures a Job.
type Config struct {
	// Store is pruned; required.
	Store Store
	// RetentionFunc returns how many days a tenant's finished tasks are
	// kept; required.
	RetentionFunc func(ctx context.Context, tenantID string) (days int, err error)
	// MinRetentionDays is the shortest retention of any plan: tasks that
	// ended more recently are never looked at; required, at least 1.
	MinRetentionDays int
	// Interval is how often Run prunes (default DefaultInterval).
	Interval time.Duration
	// NowFunc is the clock (default time.Now).
	NowFunc func() time.Time
	// Logger receives a line per run that pruned something, and failures
	// (default slog.Default()).
	Logger *slog.Logger
}

// Job prunes the finished tasks of every tenant once its retention has
// passed. Run one at a time (elected): two would only do the work twice.
type Job struct {
	cfg Config
}

// New returns a Job; it fails when cfg cannot work.
func New(cfg Config) (*Job, error) {
	if cfg.Store == nil || cfg.RetentionFunc == nil || cfg.MinRetentionDays < 1 {
		return nil, errors.New("retention config: Store, RetentionFunc and a MinRetentionDays of at least 1 are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Job{cfg: cfg}, nil
}

// Run prunes at once and then every Interval until ctx ends.
func (j *Job) Run(ctx context.Context) error {
	t := time.NewTicker(j.cfg.Interval)
	defer t.Stop()
	for {
		if n, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.cfg.Logger.Error("retention: prune", "pruned_tasks", n, "err", err)
		} else if n > 0 {
			j.cfg.Logger.Info("retention: pruned finished tasks past their plan's retention", "tasks", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunOnce prunes every task whose retention has passed and returns how
// many it pruned. A tenant that fails is skipped (and reported) so that
// it cannot hold the others back.
func (j *Job) RunOnce(ctx context.Context) (int, error) {
	now := j.cfg.NowFunc()
	earliest := now.AddDate(0, 0, -j.cfg.MinRetentionDays)
	pruned := 0
	var errs []error
	after := ""
	for {
		tenants, err := j.cfg.Store.TaskViewsTenantsWithEnded(ctx, earliest, after, pageSize)
		if err != nil {
			return pruned, errors.Join(append(errs, fmt.Errorf("list tenants: %w", err))...)
		}
		for _, tenantID := range tenants {
			n, err := j.pruneTenant(ctx, tenantID, now)
			pruned += n
			if err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: %w", tenantID, err))
			}
		}
		if len(tenants) < pageSize {
			return pruned, errors.Join(errs...)
		}
		after = tenants[len(tenants)-1]
	}
}

// pruneTenant prunes the tenant's tasks that ended before its retention.
func (j *Job) pruneTenant(ctx context.Context, tenantID string, now time.Time) (int, error) {
	days, err := j.cfg.RetentionFunc(ctx, tenantID)
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	cutoff := now.AddDate(0, 0, -days)
	pruned := 0
	for {
		ids, err := j.cfg.Store.TaskViewsEndedOfTenant(ctx, tenantID, cutoff, pageSize)
		if err != nil {
			return pruned, err
		}
		for _, id := range ids {
			if _, err := j.cfg.Store.TaskPrune(ctx, id, now); err != nil {
				return pruned, fmt.Errorf("prune task %s: %w", id, err)
			}
			pruned++
		}
		if len(ids) < pageSize {
			return pruned, nil
		}
	}
}
