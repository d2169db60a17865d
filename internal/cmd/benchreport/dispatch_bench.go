package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
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

// dispatch measures start_task returned → executor started at a steady
// rate, through the production path: Postgres, the sealer, the relay,
// Redis Streams and a worker pool.
func (b *bench) dispatch(ctx context.Context) ([]row, error) {
	const rate, seconds = 100, 10
	rdb, stopRedis, err := benchRedis()
	if err != nil {
		return nil, err
	}
	defer stopRedis()
	url, drop, err := testpg.CreateDatabase(ctx, b.admin)
	if err != nil {
		return nil, err
	}
	defer func() { _ = drop() }()
	rcfg := bus.RedisConfig{Client: rdb, Prefix: "bench:"}
	pub, err := bus.NewRedisPublisher(rcfg)
	if err != nil {
		return nil, err
	}
	// As in production: appends are announced at commit, and the relay
	// publishes them again from the feed.
	sopts := eventstore.Options{Committed: bus.NewAnnouncer(pub, nil).Committed}
	store, err := postgres.Open(ctx, url, postgres.Config{Options: sopts})
	if err != nil {
		return nil, err
	}
	defer func() { _ = store.Close() }()

	work, err := bus.NewRedisWorkSubscriber(rcfg, "bench-worker")
	if err != nil {
		return nil, err
	}
	defer func() { _ = work.Close() }()
	controls, err := bus.NewRedisFanOutSubscriber(rcfg)
	if err != nil {
		return nil, err
	}
	defer func() { _ = controls.Close() }()
	rec := &startRecorder{started: map[string]time.Time{}}
	runner, err := worker.New(store, worker.Config{WorkerID: "bench", Executors: map[domain.Adapter]executors.Executor{domain.AdapterMock: rec}})
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	pool := worker.NewPool(runner, work, controls, 8, nil).WithReaders(8)
	if err := pool.Subscribe(runCtx); err != nil {
		return nil, err
	}
	go func() { _ = pool.Run(runCtx) }()
	go func() { _ = bus.NewRelay(store, pub, store.Checkpoint("relay"), nil).Run(runCtx) }()
	start, err := commands.NewStartTaskHandler(store, commands.StartTaskConfig{})
	if err != nil {
		return nil, err
	}

	returned := map[string]time.Time{}
	ticker := time.NewTicker(time.Second / rate)
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
	return []row{{
		fmt.Sprintf("dispatch: start_task returned → executor started, %d starts/s for %d s, Postgres + Redis", rate, seconds),
		fmt.Sprintf("p50 %s, p99 %s", percentile(lat, 0.5).Round(10*time.Microsecond), percentile(lat, 0.99).Round(10*time.Microsecond)),
		"p50 ≤ 3 ms, p99 ≤ 10 ms", "commit → announcer → Redis → consumer group → claim (task.started + lease) → executor; the relay's second Work message is a failed claim",
	}}, nil
}

// benchRedis connects to AXONTASK_BENCH_REDIS_URL or a throwaway server;
// stop closes the client and stops the server.
func benchRedis() (rdb *redis.Client, stop func(), err error) {
	stopServer := func() {}
	redisURL := os.Getenv("AXONTASK_BENCH_REDIS_URL")
	if redisURL == "" {
		u, stopSrv, err := testredis.Start()
		if err != nil {
			return nil, nil, fmt.Errorf("start redis (or set AXONTASK_BENCH_REDIS_URL): %w", err)
		}
		redisURL, stopServer = u, stopSrv
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		stopServer()
		return nil, nil, err
	}
	rdb = redis.NewClient(opts)
	return rdb, func() { _ = rdb.Close(); stopServer() }, nil
}
