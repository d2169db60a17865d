// Package retention prunes finished tasks whose plan's retention has
// passed: their events keep their place in the chain and their digests,
// but lose their payloads and salts (docs/integrity.md), so a task's log
// still verifies while its output is gone. The webhook delivery log
// follows the same retention: deliveries that ended before it are deleted.
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
// (eventstore.PruneStore); the webhook deliveries to prune
// (eventstore.WebhookDeliveryStore). The engines' stores have all three.
type Store interface {
	TaskViewsTenantsWithEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error)
	TaskViewsEndedOfTenant(ctx context.Context, tenantID string, endedBefore time.Time, limit int) ([]string, error)
	TaskPrune(ctx context.Context, taskID string, at time.Time) (int, error)
	WebhookDeliveryTenantsEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error)
	WebhookDeliveryPrune(ctx context.Context, tenantID string, endedBefore time.Time) (int, error)
}

// Pruned is what one run pruned.
type Pruned struct {
	// Tasks is how many finished tasks lost their payloads.
	Tasks int
	// Deliveries is how many ended webhook deliveries were deleted.
	Deliveries int
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
			j.cfg.Logger.Error("retention: prune", "pruned_tasks", n.Tasks, "pruned_deliveries", n.Deliveries, "err", err)
		} else if n != (Pruned{}) {
			j.cfg.Logger.Info("retention: pruned past their plan's retention", "tasks", n.Tasks, "webhook_deliveries", n.Deliveries)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunOnce prunes every task and webhook delivery whose retention has
// passed and returns how many it pruned. A tenant that fails is skipped
// (and reported) so that it cannot hold the others back.
func (j *Job) RunOnce(ctx context.Context) (Pruned, error) {
	now := j.cfg.NowFunc()
	tasks, taskErr := j.eachTenant(ctx, now, j.cfg.Store.TaskViewsTenantsWithEnded, j.pruneTasks)
	deliveries, deliveryErr := j.eachTenant(ctx, now, j.cfg.Store.WebhookDeliveryTenantsEnded, j.cfg.Store.WebhookDeliveryPrune)
	return Pruned{Tasks: tasks, Deliveries: deliveries}, errors.Join(taskErr, deliveryErr)
}

// eachTenant calls prune, with the tenant's cutoff, for every tenant that
// list finds with something ended before the shortest retention, and
// returns the sum of what prune returned.
func (j *Job) eachTenant(ctx context.Context, now time.Time,
	list func(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error),
	prune func(ctx context.Context, tenantID string, cutoff time.Time) (int, error),
) (int, error) {
	earliest := now.AddDate(0, 0, -j.cfg.MinRetentionDays)
	pruned := 0
	var errs []error
	after := ""
	for {
		tenants, err := list(ctx, earliest, after, pageSize)
		if err != nil {
			return pruned, errors.Join(append(errs, fmt.Errorf("list tenants: %w", err))...)
		}
		for _, tenantID := range tenants {
			days, err := j.cfg.RetentionFunc(ctx, tenantID)
			if err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: retention: %w", tenantID, err))
				continue
			}
			n, err := prune(ctx, tenantID, now.AddDate(0, 0, -days))
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

// pruneTasks prunes the tenant's tasks that ended before cutoff.
func (j *Job) pruneTasks(ctx context.Context, tenantID string, cutoff time.Time) (int, error) {
	now := j.cfg.NowFunc()
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
