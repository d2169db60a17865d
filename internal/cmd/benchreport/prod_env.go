package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/metrics"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/wiring"
)

// prodEnv is the production path for one benchmark, as `axontask serve`
// and `worker` wire it: a Postgres database of its own, Redis Streams under
// a prefix of its own, a store that announces its appends at commit, the
// relay publishing them again from the feed, and the tenants' plans applied
// to starts and workers (internal/wiring, as serve and worker apply them).
type prodEnv struct {
	rcfg  bus.RedisConfig
	pub   message.Publisher
	store *postgres.Store
	// quotas are benchPlans on store's tenants.
	quotas *commands.Quotas
	// metrics receives what the decorated command handlers, the store's
	// commits and the workers' claims do, as in serve and worker.
	metrics *metrics.Registry
	// ctx ends at close; run background work under it.
	ctx     context.Context
	closers []func()
}

// newProdEnv sets the path up, its Redis keys under a prefix unique to this
// call; hook, when set, sees each committed append just before it is
// announced. Close it when done.
func (b *bench) newProdEnv(ctx context.Context, name string, hook func(context.Context, []domain.Event)) (env *prodEnv, err error) {
	env = &prodEnv{metrics: metrics.New()}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	rdb, stopRedis, err := benchRedis(b.srv.redis)
	if err != nil {
		return nil, err
	}
	env.closers = append(env.closers, stopRedis)
	url, drop, err := testpg.CreateDatabase(ctx, b.srv.admin)
	if err != nil {
		return nil, fmt.Errorf("create the %s database: %w", name, err)
	}
	env.closers = append(env.closers, func() { _ = drop() })
	// A shared Redis may hold an earlier run's streams and consumer groups.
	env.rcfg = bus.RedisConfig{Client: rdb, Prefix: "bench-" + name + "-" + uuid.NewString()[:8] + ":"}
	if env.pub, err = bus.NewRedisPublisher(env.rcfg); err != nil {
		return nil, err
	}
	committed := bus.NewAnnouncer(env.pub, nil).Committed
	if hook != nil {
		announce := committed
		committed = func(ctx context.Context, events []domain.Event) {
			hook(ctx, events)
			announce(ctx, events)
		}
	}
	if env.store, err = postgres.Open(ctx, url, postgres.Config{Options: eventstore.Options{Committed: committed, ObserveCommitFunc: env.metrics.ObserveCommit}}); err != nil {
		return nil, err
	}
	env.closers = append(env.closers, func() { _ = env.store.Close() })
	if env.quotas, err = wiring.Quotas(env.store, benchPlans); err != nil {
		return nil, err
	}
	var stop context.CancelFunc
	env.ctx, stop = context.WithCancel(ctx)
	env.closers = append(env.closers, stop)
	go func() {
		_ = wiring.Relay(env.store, env.store.Checkpoint("relay"), env.pub, env.rcfg, slog.New(slog.DiscardHandler)).Run(env.ctx)
	}()
	return env, nil
}

// benchPlans is the plan catalog's environment for the benchmarks: every
// tenant is on the ent plan (DEFAULT_PLAN, the plan a tenant without a
// set-plan is on; the "bench" tenant has no stream to set a plan on), and
// the ent plan's daily task cap is raised to its highest value so that a
// fast machine's throughput rounds do not run into it. Starts still
// reserve against the cap and workers still lease within the plan's
// concurrency (100, above every pool here) and apply its task limits:
// the same work as in production, with limits that never throttle.
func benchPlans(key string) string {
	return map[string]string{"DEFAULT_PLAN": "ent", "PLAN_ENT_TASKS_PER_DAY": "10000000"}[key]
}

// starter returns the StartTask handler as serve wires it: with the
// tenants' plans, decorated, with metrics (and no logger: serve's does not
// log at debug level).
func (e *prodEnv) starter() (commands.Handler[commands.StartTask, commands.StartTaskResult], error) {
	return wiring.StartTask(e.store, e.quotas, nil, e.metrics)
}

// startPool runs a worker named id with slots slots that runs the tasks
// of each adapter of execs, fed by the workers' consumer group, until close;
// like worker, it holds each tenant to its plan.
func (e *prodEnv) startPool(id string, execs map[domain.Adapter]executors.Executor, slots int) error {
	runner, err := worker.New(e.store, worker.Config{WorkerID: id, Executors: execs, PlanFunc: wiring.PlanFunc(e.quotas), ClaimedFunc: e.metrics.ObserveDispatch})
	if err != nil {
		return err
	}
	work, err := bus.NewRedisWorkSubscriber(e.rcfg, id)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() { _ = work.Close() })
	controls, err := bus.NewRedisFanOutSubscriber(e.rcfg)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() { _ = controls.Close() })
	pool := worker.NewPool(runner, work, controls, slots, nil).SubscribePerSlot()
	if err := pool.Subscribe(e.ctx); err != nil {
		return fmt.Errorf("worker %s: %w", id, err)
	}
	go func() { _ = pool.Run(e.ctx) }()
	return nil
}

// commitMark is where the counts of commits stood at one moment.
type commitMark struct {
	// commits, events and appends are the store's append transactions,
	// their events and their appends (streams), from the metrics.
	commits, events, appends float64
	// xid is the Postgres cluster's next transaction id: every write
	// transaction takes one (appends, leases, the sealer's ledger rows,
	// the relay's checkpoint), read-only ones none.
	xid int64
}

// commitsNow marks where the counts of commits stand.
func (e *prodEnv) commitsNow(ctx context.Context) (m commitMark, err error) {
	g := e.metrics.Gatherer()
	if m.commits, err = metrics.ReadCounter(g, metrics.Commits); err != nil {
		return commitMark{}, err
	}
	if m.events, err = metrics.ReadCounter(g, metrics.EventsAppended); err != nil {
		return commitMark{}, err
	}
	appends, err := metrics.ReadHistogram(g, metrics.CommitAppends)
	if err != nil {
		return commitMark{}, err
	}
	m.appends = appends.Sum
	// Taking the id takes one: commitTally.add subtracts it.
	if err := e.store.Pool().QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&m.xid); err != nil {
		return commitMark{}, fmt.Errorf("read the transaction id: %w", err)
	}
	return m, nil
}

// commitTally sums the commits of the spans a comparison measured
// AxonTask in (River's rounds, between them, write to the same cluster).
type commitTally struct {
	commits, events, appends float64
	writes                   int64
}

// add counts the commits between from and to (less the transaction id
// that reading to took).
func (t *commitTally) add(from, to commitMark) {
	t.commits += to.commits - from.commits
	t.events += to.events - from.events
	t.appends += to.appends - from.appends
	t.writes += to.xid - from.xid - 1
}

// perTask describes the tally per task of tasks: the store's commits as
// the metrics count them (axontask_commits_total, with the events and the
// streams they appended) and Postgres's write transactions.
func (t commitTally) perTask(tasks int64) string {
	n := float64(max(1, tasks))
	return fmt.Sprintf("%.2f store commits per task (axontask_commits_total; %.1f events per task, %.1f streams per commit) and %.2f Postgres write transactions per task",
		t.commits/n, t.events/n, t.appends/max(1, t.commits), float64(t.writes)/n)
}

// close stops the background work and releases everything, last first.
func (e *prodEnv) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// benchRedisPool is the Redis client's pool size in the benchmarks.
const benchRedisPool = 100

// benchRedis connects to redisURL or, when it is empty, to a throwaway
// server; stop closes the client and stops the server.
func benchRedis(redisURL string) (rdb *redis.Client, stop func(), err error) {
	stopServer := func() {}
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
		return nil, nil, fmt.Errorf("parse the Redis URL: %w", err)
	}
	// One process runs here what production runs in several (the API,
	// two workers), each slot of a worker holding a connection in a
	// blocking read: go-redis's default pool (10 per CPU) would make the
	// other calls wait for a connection, up to a read's block time.
	opts.PoolSize = benchRedisPool
	rdb = redis.NewClient(opts)
	return rdb, func() { _ = rdb.Close(); stopServer() }, nil
}
