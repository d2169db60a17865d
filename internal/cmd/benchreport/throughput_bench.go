package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
)

// The worker pools of the throughput and drain steps: noopWorkers workers
// of noopSlots slots each, riverWorkers in all.
const noopWorkers, noopSlots = 2, 8

// taskTimeout bounds how long a closed-loop client waits for its task (or
// River job) to end.
const taskTimeout = 30 * time.Second

// noopEnv is the production path with noopWorkers worker pools that run
// mock tasks and the HTTP API, for the steps that start no-op tasks; hook
// sees each committed append. Close the env when done.
func (b *bench) noopEnv(ctx context.Context, name string, hook func(context.Context, []domain.Event)) (*prodEnv, *benchAPI, error) {
	env, err := b.newProdEnv(ctx, name, hook)
	if err != nil {
		return nil, nil, err
	}
	for i := range noopWorkers {
		if err := env.startPool(fmt.Sprintf("bench-worker-%d", i), map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{})}, noopSlots); err != nil {
			env.close()
			return nil, nil, err
		}
	}
	api, err := env.serveAPI(ctx)
	if err != nil {
		env.close()
		return nil, nil, err
	}
	return env, api, nil
}

// throughput measures one start per request, for each count of clients of
// startClients: each client starts a no-op task with POST /mcp/start_task
// and waits for it to end (task.succeeded committed) before it starts the
// next (a closed loop), through the production path (HTTP, Postgres, the
// announcer, Redis Streams, 2 workers × 8 slots), against River's single
// shape (one job per Insert from as many goroutines, each waiting for its
// job to be worked), tuned and default, in alternating rounds.
func (b *bench) throughput(ctx context.Context) ([]row, error) {
	var waiters taskWaiters
	env, api, err := b.noopEnv(ctx, "throughput", func(_ context.Context, events []domain.Event) {
		for _, e := range events {
			if e.Type.Terminal() {
				waiters.ended(e.StreamID)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer env.close()
	var rows []row
	for _, clients := range b.cfg.startClients {
		r, err := b.throughputWith(ctx, env, api, &waiters, clients)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// throughputWith runs the throughput comparison with clients clients.
func (b *bench) throughputWith(ctx context.Context, env *prodEnv, api *benchAPI, waiters *taskWaiters, clients int) ([]row, error) {
	var ours, tuned, dflt []float64
	var tally commitTally
	var tasks int64
	for range b.cfg.rounds {
		from, err := env.commitsNow(ctx)
		if err != nil {
			return nil, err
		}
		rate, n, err := b.closedLoop(ctx, api, waiters, clients)
		if err != nil {
			return nil, fmt.Errorf("%d clients: %w", clients, err)
		}
		to, err := env.commitsNow(ctx)
		if err != nil {
			return nil, err
		}
		tally.add(from, to)
		tasks += n
		args := []string{"-clients", strconv.Itoa(clients), "-duration", b.cfg.roundTime.String()}
		t, err := b.river(ctx, "single", riverTuned, args...)
		if err != nil {
			return nil, err
		}
		d, err := b.river(ctx, "single", riverDefault, args...)
		if err != nil {
			return nil, err
		}
		ours, tuned, dflt = append(ours, rate), append(tuned, t.PerSec), append(dflt, d.PerSec)
	}
	return []row{
		{
			fmt.Sprintf("River, one job per Insert, %d clients, closed loop: jobs/s, insert → worked", clients),
			fmt.Sprintf("tuned %.0f jobs/s, default %.0f jobs/s", median(tuned), median(dflt)),
			"baseline", fmt.Sprintf("riverpgxv5 on the same Postgres, MaxWorkers %d; tuned: FetchCooldown 1 ms, FetchPollInterval 50 ms", riverWorkers),
		},
		{
			fmt.Sprintf("one start per request: no-op tasks/s, %d clients, closed loop, POST /mcp/start_task → task.succeeded, %d workers × %d slots", clients, noopWorkers, noopSlots),
			fmt.Sprintf("%.0f tasks/s = **%.2f ×** River tuned (%.2f × default)", median(ours), medianRatio(ours, tuned), medianRatio(ours, dflt)),
			"≥ 2 × River tuned",
			fmt.Sprintf("%s; against River tuned, %s", tally.perTask(tasks), ratios(ours, tuned)),
		},
	}, nil
}

// closedLoop runs clients closed loops for one round and returns the tasks
// ended per second and how many: each client starts a no-op task through
// the API, waits for it to end, and starts the next until the round is
// over.
func (b *bench) closedLoop(ctx context.Context, api *benchAPI, waiters *taskWaiters, clients int) (float64, int64, error) {
	var ended atomic.Int64
	rate, err := b.parallel(ctx, clients, func(ctx context.Context, deadline time.Time) (int, error) {
		n := 0
		for time.Now().Before(deadline) {
			id, err := api.startTask(ctx)
			if err != nil {
				return n, err
			}
			if err := waiters.wait(ctx, id, taskTimeout); err != nil {
				return n, err
			}
			n++
			ended.Add(1)
		}
		return n, nil
	})
	return rate, ended.Load(), err
}
