// Package wiring builds the parts of the production path that every
// process running it wires the same way — serve, worker and dev in
// cmd/axontask, and the benchmarks of internal/cmd/benchreport — so that a
// benchmark measures what production runs: tenants' plans applied to
// starts (the longest timeout, the daily task cap) and to workers (the
// tenant's concurrency, each task's limits).
package wiring

import (
	"context"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/plans"
)

// Quotas returns the plans that getenv configures (see plans.FromEnv; a
// process passes os.Getenv) applied to store's tenants. Build one per
// process, so that every part of it shares one plan cache.
func Quotas(store commands.QuotaStore, getenv func(string) string) (*commands.Quotas, error) {
	catalog, err := plans.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return commands.NewQuotas(store, catalog, nil), nil
}

// StartTask returns the StartTask handler on store that applies quotas to
// every start, decorated with logger and metrics (either may be nil).
func StartTask(store commands.StreamStore, quotas *commands.Quotas, logger *slog.Logger, metrics commands.MetricsClient) (commands.Handler[commands.StartTask, commands.StartTaskResult], error) {
	start, err := commands.NewStartTaskHandler(store, commands.StartTaskConfig{Quotas: quotas})
	if err != nil {
		return nil, err
	}
	return commands.Decorate(start, logger, metrics), nil
}

// StartTasks returns the StartTasks handler (POST /v1/tasks/batch) on
// store that applies quotas to every batch, as StartTask applies them to a
// start, decorated with logger and metrics (either may be nil).
func StartTasks(store commands.BatchStore, quotas *commands.Quotas, logger *slog.Logger, metrics commands.MetricsClient) (commands.Handler[commands.StartTasks, commands.StartTasksResult], error) {
	start, err := commands.NewStartTasksHandler(store, commands.StartTaskConfig{Quotas: quotas})
	if err != nil {
		return nil, err
	}
	return commands.Decorate(start, logger, metrics), nil
}

// PlanFunc returns the worker.Config.PlanFunc that holds each tenant to its
// plan in quotas: the tasks it runs at once and each task's limits.
func PlanFunc(quotas *commands.Quotas) func(ctx context.Context, tenantID string) (worker.TenantPlan, error) {
	return func(ctx context.Context, tenantID string) (worker.TenantPlan, error) {
		p, err := quotas.Plan(ctx, tenantID)
		return worker.TenantPlan{Name: p.Name, Concurrency: p.Concurrency, Limits: p.TaskLimits}, err
	}
}

// RelayStore is what Relay needs of the store: its feed, and the queued
// tasks that recovering a lost bus marks waiting.
type RelayStore interface {
	bus.Feed
	worker.QueuedAdopter
}

// Relay returns the relay of a production deployment: the feed of store
// published to the Redis bus of rcfg through pub, from checkpoint (the
// store's checkpoint "relay"), watching the bus for lost messages; when Redis lost them, the
// queued tasks go on the waiting list (their work messages went with
// Redis), where the workers' waiting sweeps run them.
func Relay(store RelayStore, checkpoint bus.Checkpoint, pub message.Publisher, rcfg bus.RedisConfig, logger *slog.Logger) *bus.Relay {
	if logger == nil {
		logger = slog.Default()
	}
	return bus.NewRelay(store, pub, checkpoint, logger).WatchLoss(bus.LossWatch{
		Lost: bus.NewRedisLossCheck(rcfg),
		Recover: func(ctx context.Context) error {
			n, err := worker.AdoptQueued(ctx, store, time.Now())
			if n > 0 {
				logger.InfoContext(ctx, "relay: queued tasks put on the waiting list, their work messages lost with the bus", "tasks", n)
			}
			return err
		},
	})
}
