package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/domain"
)

// drainTimeout bounds how long a backlog may take to drain, as bench/river
// bounds River's.
const drainTimeout = 10 * time.Minute

// drain measures a backlog drain: drainTasks no-op tasks started through
// the API drainBatch a request while the workers (2 × 8 slots) run, from
// the first start to the last task's end, against River's drain shape
// (InsertMany of as many jobs, as many a call, worked by as many workers)
// tuned, in alternating rounds, and River's defaults in the first round.
func (b *bench) drain(ctx context.Context) ([]row, error) {
	var ended atomic.Int64
	env, api, err := b.noopEnv(ctx, "drain", func(_ context.Context, events []domain.Event) {
		for _, e := range events {
			if e.Type.Terminal() {
				ended.Add(1)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer env.close()
	n := b.cfg.drainTasks
	var ours, tuned, dflt []float64
	var tally commitTally
	var how string
	for range b.cfg.drainRounds {
		from, err := env.commitsNow(ctx)
		if err != nil {
			return nil, err
		}
		base, start := ended.Load(), time.Now()
		if how, err = b.startBacklog(ctx, api, n); err != nil {
			return nil, err
		}
		for ended.Load()-base < int64(n) {
			if time.Since(start) > drainTimeout {
				return nil, fmt.Errorf("drain: %d of %d tasks ended %s after the first start", ended.Load()-base, n, drainTimeout)
			}
			time.Sleep(time.Millisecond)
		}
		ours = append(ours, float64(n)/time.Since(start).Seconds())
		to, err := env.commitsNow(ctx)
		if err != nil {
			return nil, err
		}
		tally.add(from, to)
		res, err := b.river(ctx, "drain", riverTuned, "-jobs", strconv.Itoa(n), "-batch", strconv.Itoa(b.cfg.drainBatch))
		if err != nil {
			return nil, err
		}
		tuned = append(tuned, res.PerSec)
		// River's defaults drain ten times slower than tuned (FetchCooldown
		// 100 ms): a round of them takes minutes at full size, once is enough.
		if len(dflt) == 0 {
			if res, err = b.river(ctx, "drain", riverDefault, "-jobs", strconv.Itoa(n), "-batch", strconv.Itoa(b.cfg.drainBatch)); err != nil {
				return nil, err
			}
			dflt = append(dflt, res.PerSec)
		}
	}
	return []row{
		{
			fmt.Sprintf("River, backlog drain: %d jobs inserted %d per InsertMany, then worked", n, b.cfg.drainBatch),
			fmt.Sprintf("tuned %.0f jobs/s, default %.0f jobs/s", median(tuned), dflt[0]),
			"baseline", fmt.Sprintf("from the first insert to the last job worked, MaxWorkers %d; the default config in the first round only", riverWorkers),
		},
		{
			fmt.Sprintf("backlog drain: %d no-op tasks %s, drained by %d workers × %d slots", n, how, noopWorkers, noopSlots),
			fmt.Sprintf("%.0f tasks/s = **%.2f ×** River tuned (%.2f × default, first round)", median(ours), medianRatio(ours, tuned), ours[0]/dflt[0]),
			"≥ River tuned",
			fmt.Sprintf("from the first start to the last task.succeeded; %s; against River tuned, %s", tally.perTask(int64(n*b.cfg.drainRounds)), ratios(ours, tuned)),
		},
	}, nil
}

// startBacklog starts n no-op tasks through the API, drainBatch a
// request, one request after the other (as River's drain inserts), and
// says how it started them.
func (b *bench) startBacklog(ctx context.Context, api *benchAPI, n int) (string, error) {
	for started := 0; started < n; started += b.cfg.drainBatch {
		if err := api.startTasks(ctx, min(b.cfg.drainBatch, n-started)); err != nil {
			return "", fmt.Errorf("start the backlog: %w", err)
		}
	}
	return fmt.Sprintf("started %d per POST /v1/tasks/batch", b.cfg.drainBatch), nil
}
