package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
)

// throughput measures no-op mock tasks completed per second by 2 workers
// (each a pool of 8 slots with a consumer of its own) while 8 clients start
// tasks as fast as they can, through Postgres and Redis, against the raw
// commit rate of 8 single-row INSERT writers, in alternating rounds.
func (b *bench) throughput(ctx context.Context) ([]row, error) {
	const starters, workers, slots = 8, 2, 8
	var done, events, appends atomic.Int64
	var typesMu sync.Mutex
	types := map[domain.EventType]bool{}
	env, err := b.newProdEnv(ctx, "throughput", func(_ context.Context, es []domain.Event) {
		// One commit: an append per stream in it (group commit may share one).
		streams := map[string]bool{}
		typesMu.Lock()
		for _, e := range es {
			streams[e.StreamID] = true
			types[e.Type] = true
			if e.Type == domain.TaskSucceededType {
				done.Add(1)
			}
		}
		typesMu.Unlock()
		events.Add(int64(len(es)))
		appends.Add(int64(len(streams)))
	})
	if err != nil {
		return nil, err
	}
	defer env.close()
	for i := range workers {
		if err := env.startPool(fmt.Sprintf("bench-worker-%d", i), map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{})}, slots); err != nil {
			return nil, err
		}
	}
	start, err := env.starter()
	if err != nil {
		return nil, err
	}
	var started atomic.Int64
	taskRound := func() (float64, error) {
		done0, t0 := done.Load(), time.Now()
		if _, err := b.parallel(ctx, starters, func(ctx context.Context, deadline time.Time) (int, error) {
			n := 0
			for time.Now().Before(deadline) {
				if _, err := start.Handle(ctx, commands.StartTask{TenantID: "bench", Name: "noop", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":1,"interval_ms":0,"output_lines_per_step":0}`), TimeoutS: 60}); err != nil {
					return n, err
				}
				n++
			}
			started.Add(int64(n))
			return n, nil
		}); err != nil {
			return 0, err
		}
		rate := float64(done.Load()-done0) / time.Since(t0).Seconds()
		// Drain the backlog so that it does not run into the next round.
		for drain := time.Now().Add(60 * time.Second); done.Load() < started.Load(); {
			if time.Now().After(drain) {
				return 0, fmt.Errorf("throughput: %d of %d tasks done 60 s after the round", done.Load(), started.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		return rate, nil
	}
	var raw, tasks []float64
	for range b.cfg.rounds {
		r, err := b.parallel(ctx, starters, b.rawSingle)
		if err != nil {
			return nil, err
		}
		t, err := taskRound()
		if err != nil {
			return nil, err
		}
		raw, tasks = append(raw, r), append(tasks, t)
	}
	perTask := float64(events.Load()) / float64(max(1, done.Load()))
	appendsPerTask := float64(appends.Load()) / float64(max(1, done.Load()))
	typesMu.Lock()
	seen := make([]string, 0, len(types))
	for t := range types {
		seen = append(seen, string(t))
	}
	typesMu.Unlock()
	slices.Sort(seen)
	return []row{
		{"raw single-row INSERT, 8 writers (commits/s)", fmt.Sprintf("%.0f commits/s", median(raw)), "baseline", "one commit per row"},
		{
			fmt.Sprintf("throughput: no-op mock tasks completed/s, %d workers × %d slots, %d starters, Postgres + Redis", workers, slots, starters),
			fmt.Sprintf("%.0f tasks/s = %.2f × the raw commit rate", median(tasks), medianRatio(tasks, raw)),
			"report",
			fmt.Sprintf("%.1f events and %.1f appends per task, counted at commit (%s); %s", perTask, appendsPerTask, strings.Join(seen, ", "), ratios(tasks, raw)),
		},
	}, nil
}
