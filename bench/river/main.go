// Command river measures River (github.com/riverqueue/river), a Go +
// Postgres job queue, as the baseline of AxonTask's throughput benchmarks:
// the same shapes make bench runs against AxonTask, on the same throwaway
// Postgres, with a no-op job. It is a module of its own so that River stays
// out of AxonTask's go.mod; benchreport runs it (go -C bench/river run .)
// and reads the one JSON line it prints.
//
// Shapes:
//
//   - single: -clients goroutines each insert one job and wait for it to be
//     worked, again and again for -duration (closed loop): jobs/s from
//     insert to completion.
//   - drain: -jobs jobs inserted with InsertMany, -batch a call, while the
//     workers run: jobs/s from the first insert to the last completion.
//   - latency: -rate inserts a second for -duration: Insert returned (the
//     job committed) → work start, p50 and p99; the counterpart of
//     AxonTask's start_task returned → executor started.
//
// Configs: default is River's defaults (FetchCooldown 100 ms,
// FetchPollInterval 1 s); tuned is FetchCooldown 1 ms and
// FetchPollInterval 50 ms. Both run -workers workers (MaxWorkers, which
// River asks for), matched to AxonTask's slots.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "river bench:", err)
		os.Exit(1)
	}
}

// settings are one run's flags.
type settings struct {
	databaseURL, shape, config string
	workers, clients, jobs     int
	batch, rate                int
	duration                   time.Duration
}

// result is the JSON line a run prints.
type result struct {
	Shape   string  `json:"shape"`
	Config  string  `json:"config"`
	Jobs    int64   `json:"jobs"`
	PerSec  float64 `json:"jobs_per_s"`
	P50MS   float64 `json:"p50_ms,omitempty"`
	P99MS   float64 `json:"p99_ms,omitempty"`
	Seconds float64 `json:"seconds"`
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("river", flag.ContinueOnError)
	var s settings
	fs.StringVar(&s.databaseURL, "database-url", "", "the Postgres database to use (River's tables are created in it; required)")
	fs.StringVar(&s.shape, "shape", "single", "single, drain or latency")
	fs.StringVar(&s.config, "config", "tuned", "default or tuned")
	fs.IntVar(&s.workers, "workers", 16, "MaxWorkers of the queue")
	fs.IntVar(&s.clients, "clients", 8, "single: concurrent clients")
	fs.IntVar(&s.jobs, "jobs", 50_000, "drain: jobs in the backlog")
	fs.IntVar(&s.batch, "batch", 1000, "drain: jobs per InsertMany call")
	fs.IntVar(&s.rate, "rate", 100, "latency: inserts per second")
	fs.DurationVar(&s.duration, "duration", 3*time.Second, "single and latency: how long to run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.databaseURL == "" {
		return errors.New("-database-url is required")
	}
	if s.workers < 1 || s.clients < 1 || s.jobs < 1 || s.batch < 1 || s.rate < 1 || s.duration <= 0 {
		return errors.New("-workers, -clients, -jobs, -batch, -rate and -duration must be positive")
	}
	pool, err := pgxpool.New(ctx, s.databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	driver := riverpgxv5.New(pool)
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate River's tables: %w", err)
	}
	if _, err := pool.Exec(ctx, "TRUNCATE river_job"); err != nil {
		return err
	}
	b := &bench{}
	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{b: b})
	cfg := &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.workers}},
		Workers: workers,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	switch s.config {
	case "default":
	case "tuned":
		cfg.FetchCooldown, cfg.FetchPollInterval = time.Millisecond, 50*time.Millisecond
	default:
		return fmt.Errorf("-config %q: use default or tuned", s.config)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()
	var res result
	switch s.shape {
	case "single":
		res, err = b.single(ctx, client, s)
	case "drain":
		res, err = b.drain(ctx, client, s)
	case "latency":
		res, err = b.latency(ctx, client, s)
	default:
		return fmt.Errorf("-shape %q: use single, drain or latency", s.shape)
	}
	if err != nil {
		return err
	}
	res.Shape, res.Config = s.shape, s.config
	return json.NewEncoder(out).Encode(res)
}

// noopArgs is the no-op job. Token names the waiter of a single-shape job.
type noopArgs struct {
	Token int64 `json:"token,omitempty"`
}

// Kind implements river.JobArgs.
func (noopArgs) Kind() string { return "noop" }

// bench is what the worker reports to.
type bench struct {
	worked  atomic.Int64
	waiters sync.Map // token → chan struct{}
	// began is when each job's work began, by job id.
	mu    sync.Mutex
	began map[int64]time.Time
}

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	b *bench
}

// Work does nothing but tell the benchmark.
func (w *noopWorker) Work(_ context.Context, job *river.Job[noopArgs]) error {
	now := time.Now()
	w.b.mu.Lock()
	if w.b.began != nil {
		w.b.began[job.ID] = now
	}
	w.b.mu.Unlock()
	w.b.worked.Add(1)
	if ch, ok := w.b.waiters.Load(job.Args.Token); ok {
		close(ch.(chan struct{}))
	}
	return nil
}

// single runs s.clients closed loops of insert, then wait until worked.
func (b *bench) single(ctx context.Context, client *river.Client[pgx.Tx], s settings) (result, error) {
	var token atomic.Int64
	var done atomic.Int64
	errs := make(chan error, s.clients)
	deadline := time.Now().Add(s.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range s.clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t := token.Add(1)
				ch := make(chan struct{})
				b.waiters.Store(t, ch)
				if _, err := client.Insert(ctx, noopArgs{Token: t}, nil); err != nil {
					errs <- err
					return
				}
				select {
				case <-ch:
				case <-time.After(30 * time.Second):
					errs <- fmt.Errorf("job %d not worked within 30 s", t)
					return
				}
				b.waiters.Delete(t)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	return result{Jobs: done.Load(), PerSec: float64(done.Load()) / elapsed.Seconds(), Seconds: elapsed.Seconds()}, nil
}

// drain inserts s.jobs jobs s.batch a call and waits until all are worked.
func (b *bench) drain(ctx context.Context, client *river.Client[pgx.Tx], s settings) (result, error) {
	start := time.Now()
	for inserted := 0; inserted < s.jobs; {
		params := make([]river.InsertManyParams, min(s.batch, s.jobs-inserted))
		for i := range params {
			params[i] = river.InsertManyParams{Args: noopArgs{}}
		}
		if _, err := client.InsertMany(ctx, params); err != nil {
			return result{}, err
		}
		inserted += len(params)
	}
	for b.worked.Load() < int64(s.jobs) {
		if time.Since(start) > 10*time.Minute {
			return result{}, fmt.Errorf("%d of %d jobs worked after 10 minutes", b.worked.Load(), s.jobs)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	return result{Jobs: int64(s.jobs), PerSec: float64(s.jobs) / elapsed.Seconds(), Seconds: elapsed.Seconds()}, nil
}

// latency inserts s.rate jobs a second for s.duration and reports Insert
// returned → work start (0 when the work began before Insert returned).
func (b *bench) latency(ctx context.Context, client *river.Client[pgx.Tx], s settings) (result, error) {
	b.mu.Lock()
	b.began = map[int64]time.Time{}
	b.mu.Unlock()
	tick := time.NewTicker(time.Second / time.Duration(s.rate))
	defer tick.Stop()
	n := max(1, int(s.duration.Seconds()*float64(s.rate)))
	returned := make(map[int64]time.Time, n)
	start := time.Now()
	for range n {
		<-tick.C
		res, err := client.Insert(ctx, noopArgs{}, nil)
		if err != nil {
			return result{}, err
		}
		returned[res.Job.ID] = time.Now()
	}
	for b.worked.Load() < int64(n) {
		if time.Since(start) > s.duration+time.Minute {
			return result{}, fmt.Errorf("%d of %d jobs worked a minute after the last insert", b.worked.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	lat := make([]time.Duration, 0, n)
	b.mu.Lock()
	for id, at := range returned {
		lat = append(lat, max(0, b.began[id].Sub(at)))
	}
	b.mu.Unlock()
	slices.Sort(lat)
	ms := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	return result{Jobs: int64(n), PerSec: float64(n) / elapsed.Seconds(), P50MS: ms(0.5), P99MS: ms(0.99), Seconds: elapsed.Seconds()}, nil
}
