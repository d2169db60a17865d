package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/metrics"
)

// startRecorder is an executor that notes when each task reaches it and
// ends the task at once: the far end of the dispatch path.
type startRecorder struct {
	mu      sync.Mutex
	started map[string]time.Time
}

func (s *startRecorder) Run(_ context.Context, task executors.Task, _ executors.Sink) (executors.Result, error) {
	now := time.Now()
	s.mu.Lock()
	s.started[task.ID] = now
	s.mu.Unlock()
	return executors.Result{}, nil
}

// recordingPool runs a worker pool of 8 slots on e whose mock tasks end
// at once, noting when each reached its executor, and returns the notes
// and the start handler that starts tasks on e.
func (e *prodEnv) recordingPool() (*startRecorder, commands.Handler[commands.StartTask, commands.StartTaskResult], error) {
	rec := &startRecorder{started: map[string]time.Time{}}
	if err := e.startPool("bench-worker", map[domain.Adapter]executors.Executor{domain.AdapterMock: rec}, 8); err != nil {
		return nil, nil, err
	}
	start, err := e.starter()
	if err != nil {
		return nil, nil, err
	}
	return rec, start, nil
}

// dispatch measures start_task returned → executor started at a steady
// rate (dispatchRate starts/s for dispatchSeconds), through the
// production path: Postgres, the announcer (and the relay), Redis Streams
// and a worker pool.
func (b *bench) dispatch(ctx context.Context) ([]row, error) {
	rate, seconds := b.cfg.dispatchRate, b.cfg.dispatchSeconds
	env, err := b.newProdEnv(ctx, "dispatch", nil)
	if err != nil {
		return nil, err
	}
	defer env.close()
	rec, start, err := env.recordingPool()
	if err != nil {
		return nil, err
	}

	returned := map[string]time.Time{}
	ticker := time.NewTicker(time.Second / time.Duration(rate))
	defer ticker.Stop()
	for range rate * seconds {
		<-ticker.C
		res, err := start.Handle(ctx, commands.StartTask{TenantID: "bench", Name: "noop", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":1,"interval_ms":0}`), TimeoutS: 60})
		if err != nil {
			return nil, err
		}
		returned[res.TaskID.String()] = time.Now()
	}
	deadline := time.Now().Add(30 * time.Second)
	var lat []time.Duration
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		done := len(rec.started)
		rec.mu.Unlock()
		if done >= len(returned) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec.mu.Lock()
	for id, at := range returned {
		if s, ok := rec.started[id]; ok {
			lat = append(lat, max(0, s.Sub(at)))
		}
	}
	rec.mu.Unlock()
	if len(lat) < len(returned) {
		return nil, fmt.Errorf("dispatch: only %d of %d tasks reached the executor within 30 s", len(lat), len(returned))
	}
	river, err := b.river(ctx, "latency", riverTuned, "-rate", strconv.Itoa(rate), "-duration", (time.Duration(seconds) * time.Second).String())
	if err != nil {
		return nil, err
	}
	p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
	claims, err := metrics.ReadHistogram(env.metrics.Gatherer(), metrics.DispatchLatency)
	if err != nil {
		return nil, err
	}
	return []row{
		{
			fmt.Sprintf("River tuned: Insert returned → work started, %d inserts/s for %d s", rate, seconds),
			fmt.Sprintf("p50 %s, p99 %s", river.p50().Round(10*time.Microsecond), river.p99().Round(10*time.Microsecond)),
			"baseline", fmt.Sprintf("the job committed → River's notifier and producer → a worker's Work, MaxWorkers %d, on the same Postgres", riverWorkers),
		},
		{
			fmt.Sprintf("dispatch: start_task returned → executor started, %d starts/s for %d s, Postgres + Redis", rate, seconds),
			fmt.Sprintf("p50 %s (%.2f × River tuned's), p99 %s", p50.Round(10*time.Microsecond), float64(p50)/float64(max(1, river.p50())), p99.Round(10*time.Microsecond)),
			"p50 ≤ River tuned's, p99 ≤ 4 ms",
			fmt.Sprintf("commit → announcer → Redis → consumer group → claim (task.started, with the lease within the tenant's limit) → executor (the relay skips the Work messages the announcer marked); the workers' %s (task.queued → claim, bucket estimates): p50 %s, p99 %s",
				metrics.DispatchLatency, metricDuration(claims.Quantile(0.5)), metricDuration(claims.Quantile(0.99))),
		},
	}, nil
}

// metricDuration renders a metric's value in seconds as a duration.
func metricDuration(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond)
}
