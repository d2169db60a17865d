package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
)

// Bounds of the recovery step.
const (
	// recoveryProbeEvery is how often a probe task is started while
	// dispatch is not back.
	recoveryProbeEvery = 100 * time.Millisecond
	// recoveryNormal is the dispatch that counts as normal again: a probe
	// that reached its executor within this of its start call.
	recoveryNormal = time.Second
	// recoveryLimit is how long the step waits for dispatch to come back
	// before it fails.
	recoveryLimit = 60 * time.Second
)

// recovery measures how soon dispatch is normal again after a dependency
// restarts, on the production path (announcer, relay with its loss watch,
// Redis Streams, a worker pool) with a Postgres and a Redis of its own:
// Redis killed and started again empty (as a cache-configured Redis
// restarts), and Postgres stopped at once (immediate shutdown) and started
// again, each down for recoveryDown. The time runs from the dependency
// accepting connections again to the first probe task (one started every
// recoveryProbeEvery) that reaches its executor within recoveryNormal of
// its start.
func (b *bench) recovery(ctx context.Context) ([]row, error) {
	pg, err := testpg.Start(testpg.CrashSafe)
	if err != nil {
		return nil, fmt.Errorf("start a Postgres of its own: %w", err)
	}
	defer pg.Close()
	rs, err := testredis.NewServer()
	if err == nil {
		err = rs.Start(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("start a Redis of its own: %w", err)
	}
	defer rs.Kill()
	own := &bench{cfg: b.cfg, srv: servers{admin: pg.AdminURL(), redis: rs.URL()}}
	env, err := own.newProdEnv(ctx, "recovery", nil)
	if err != nil {
		return nil, err
	}
	defer env.close()
	rec, start, err := env.recordingPool()
	if err != nil {
		return nil, err
	}
	p := prober{start: start, rec: rec}
	if _, err := p.untilNormal(ctx, time.Now()); err != nil { // the path works before any fault
		return nil, fmt.Errorf("recovery: before any fault: %w", err)
	}
	faults := []struct {
		name    string
		restart func(context.Context) error
	}{
		{"Redis restarted empty", func(ctx context.Context) error {
			rs.Kill()
			_ = backoff.Sleep(ctx, b.cfg.recoveryDown)
			return rs.Start(ctx)
		}},
		{"Postgres restarted (immediate shutdown)", func(ctx context.Context) error {
			pg.Stop()
			_ = backoff.Sleep(ctx, b.cfg.recoveryDown)
			return pg.Start(ctx)
		}},
	}
	var rows []row
	for _, f := range faults {
		var took []float64
		for range b.cfg.recoveryRounds {
			if err := f.restart(ctx); err != nil {
				return nil, fmt.Errorf("recovery: %s: %w", f.name, err)
			}
			d, err := p.untilNormal(ctx, time.Now())
			if err != nil {
				return nil, fmt.Errorf("recovery: %s: %w", f.name, err)
			}
			took = append(took, d.Seconds())
		}
		rows = append(rows, row{
			name:   fmt.Sprintf("dispatch normal again after %s (down %s)", f.name, b.cfg.recoveryDown),
			value:  fmt.Sprintf("%.2f s (median of %d; max %.2f s)", median(took), len(took), slices.Max(took)),
			target: "≤ 5 s",
			note:   fmt.Sprintf("from the dependency accepting connections to a no-op task at its executor within %s of its start (probes every %s)", recoveryNormal, recoveryProbeEvery),
		})
	}
	return rows, nil
}

// prober starts probe tasks and watches them reach the executor.
type prober struct {
	start commands.Handler[commands.StartTask, commands.StartTaskResult]
	rec   *startRecorder
}

// untilNormal starts a probe every recoveryProbeEvery from since on, and
// returns how long after since one first reached its executor within
// recoveryNormal of its start call; starts refused while a dependency is
// down are retried with the next probe.
func (p prober) untilNormal(ctx context.Context, since time.Time) (time.Duration, error) {
	called := map[string]time.Time{}
	ticker := time.NewTicker(recoveryProbeEvery)
	defer ticker.Stop()
	var lastErr error
	for time.Since(since) < recoveryLimit {
		sctx, cancel := context.WithTimeout(ctx, recoveryNormal)
		at := time.Now()
		res, err := p.start.Handle(sctx, commands.StartTask{TenantID: "bench", Name: "probe", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":1,"interval_ms":0}`), TimeoutS: 60})
		cancel()
		if err == nil {
			called[res.TaskID.String()] = at
		} else {
			lastErr = err
		}
		p.rec.mu.Lock()
		for id, c := range called {
			if s, ok := p.rec.started[id]; ok && s.Sub(c) <= recoveryNormal {
				p.rec.mu.Unlock()
				return s.Sub(since), nil
			}
		}
		p.rec.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-ticker.C:
		}
	}
	return 0, errors.Join(fmt.Errorf("dispatch not normal %s after the dependency came back (%d probes started)", recoveryLimit, len(called)), lastErr)
}
