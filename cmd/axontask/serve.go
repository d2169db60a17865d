package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/metrics"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/mcpserver"
	"github.com/axontask/axontask/oauth"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi"
	"github.com/axontask/axontask/secrets"
	"github.com/axontask/axontask/translog"
	meters "github.com/axontask/axontask/usage"
	"github.com/axontask/axontask/webhooks"
)

// Advisory lock keys that elect one relay, one projector, one retention
// job, one webhook dispatcher, one tenant feed indexer, one usage counter
// and one Stripe meter reporter among serve processes. They never change.
const (
	relayLockKey     int64 = 0x61786f6e5f72656c // "axon_rel"
	projectorLockKey int64 = 0x61786f6e5f70726f // "axon_pro"
	retentionLockKey int64 = 0x61786f6e5f726574 // "axon_ret"
	webhookLockKey   int64 = 0x61786f6e5f776864 // "axon_whd"
	feedLockKey      int64 = 0x61786f6e5f746664 // "axon_tfd"
	usageLockKey     int64 = 0x61786f6e5f757367 // "axon_usg"
	metersLockKey    int64 = 0x61786f6e5f6d7472 // "axon_mtr"
)

// stripeMetersCheckpoint names the Stripe meter reporter's place (the next
// UTC day to report) among the store's checkpoints. It never changes.
const stripeMetersCheckpoint = "stripe_meters"

// prodFlags are the settings serve and worker share.
type prodFlags struct {
	databaseURL string
	redisURL    string
	redisPrefix string
}

func (f *prodFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "Postgres URL (DATABASE_URL)")
	fs.StringVar(&f.redisURL, "redis-url", os.Getenv("REDIS_URL"), "Redis URL (REDIS_URL)")
	fs.StringVar(&f.redisPrefix, "redis-prefix", envOr("AXONTASK_REDIS_PREFIX", "axontask:"), "prefix of the Redis stream names (AXONTASK_REDIS_PREFIX)")
}

// open connects to Redis and Postgres. The store announces its appends on
// the returned publisher (bus.Announcer), which the caller may also use,
// and counts its commits in reg.
func (f *prodFlags) open(ctx context.Context, logger *slog.Logger, reg *metrics.Registry) (*postgres.Store, bus.RedisConfig, message.Publisher, func(), error) {
	if f.databaseURL == "" || f.redisURL == "" {
		return nil, bus.RedisConfig{}, nil, nil, usageError("production mode needs Postgres and Redis: set DATABASE_URL and REDIS_URL (or -database-url, -redis-url); for a single process without them, run axontask dev")
	}
	opts, err := redis.ParseURL(f.redisURL)
	if err != nil {
		return nil, bus.RedisConfig{}, nil, nil, usageError("REDIS_URL: " + err.Error())
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, bus.RedisConfig{}, nil, nil, fmt.Errorf("connect to redis: %w", err)
	}
	// go-redis prints every failed dial; the bus logs an outage once.
	redis.SetLogger(redisLogger{logger})
	rcfg := bus.RedisConfig{Client: rdb, Prefix: f.redisPrefix, Logger: logger}
	pub, err := bus.NewRedisPublisher(rcfg)
	if err != nil {
		_ = rdb.Close()
		return nil, bus.RedisConfig{}, nil, nil, err
	}
	sopts := eventstore.Options{Logger: logger, Committed: bus.NewAnnouncer(pub, logger).Committed, ObserveCommitFunc: reg.ObserveCommit}
	store, err := postgres.Open(ctx, f.databaseURL, postgres.Config{Options: sopts})
	if err != nil {
		_ = rdb.Close()
		return nil, bus.RedisConfig{}, nil, nil, err
	}
	closeAll := func() { _ = store.Close(); _ = rdb.Close() }
	return store, rcfg, pub, closeAll, nil
}

// redisLogger sends go-redis's own log lines to logger at debug level.
type redisLogger struct{ logger *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// runServe runs an API process on Postgres and Redis: the task API, and the
// relay when this process wins its election. Run any number of them.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf prodFlags
	pf.register(fs)
	host := fs.String("host", envOr("API_HOST", "127.0.0.1"), "address to listen on (API_HOST)")
	port := fs.String("port", envOr("API_PORT", "8080"), "port to listen on (API_PORT)")
	metricsAddr := fs.String("metrics-addr", os.Getenv("METRICS_ADDR"), "serve /metrics on this host:port only, not on the API's address (METRICS_ADDR)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	secret, err := jwtSecret()
	if err != nil {
		return err
	}
	logger := newLogger(stderr)
	reg := metrics.New()
	store, rcfg, pub, closeAll, err := pf.open(ctx, logger, reg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	reg.WatchStore(store, logger, "relay", projections.TaskViewsName, postgres.TenantFeedName, projections.UsageCountersName, webhooks.DispatchName)
	defer closeAll()
	live, err := bus.NewRedisLiveSubscriber(rcfg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() { _ = live.Close() }()
	hub, err := subscribedHub(ctx, live, logger)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	identity, err := newIdentity(store, secret, logger, reg)
	if err != nil {
		return usageError(err.Error())
	}
	quotas, err := wiring.Quotas(store, os.Getenv)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	tlog, err := wiring.TransparencyLog(store, os.Getenv, logger)
	if err != nil {
		return usageError(err.Error())
	}
	meter, sb, reporter, err := billingSide(store, quotas, store.Checkpoint(stripeMetersCheckpoint), logger)
	if err != nil {
		return err
	}
	vault, err := prodVault(store, logger)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	api, err := taskAPI(store, quotas, hub, pub, identity, ratelimit.NewRedis(rcfg.Client, rcfg.Prefix), secret, logger, reg, tlog, vault, meter, sb)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	oauthServer, err := newOAuth(store, identity, ratelimit.NewRedis(rcfg.Client, rcfg.Prefix), true, logger)
	if err != nil {
		return err
	}
	if api, err = withDashboard(api, secret, true, sb != nil, oauthServer, logger); err != nil {
		return err
	}
	// Behind a reverse proxy on this machine, the MCP endpoint must accept
	// the proxy's Host: every request needs a bearer credential anyway.
	// The API's address serves /metrics only behind METRICS_TOKEN: the
	// counts tell anyone how busy the service is.
	beside := apiBeside{store: store, hub: hub, identity: identity, meter: meter, oauth: oauthServer}
	if token := os.Getenv("METRICS_TOKEN"); token != "" {
		beside.metrics = metricsBehindToken(reg.Handler(), token)
	}
	var metricsJob func(context.Context) error
	var metricsLn net.Listener
	if *metricsAddr != "" {
		// Scraped where only Prometheus reaches: the API's address leaves
		// /metrics out.
		if metricsLn, err = (&net.ListenConfig{}).Listen(ctx, "tcp", *metricsAddr); err != nil {
			return fmt.Errorf("serve: metrics: listen: %w (set METRICS_ADDR or -metrics-addr to another host:port)", err)
		}
		metricsJob = func(ctx context.Context) error { return serveUntilDone(ctx, metricsLn, reg.Handler(), logger) }
		beside.metrics = nil
	} else if beside.metrics == nil {
		logger.Info("metrics are not served: set METRICS_ADDR to serve /metrics on an address of its own, or METRICS_TOKEN to serve it on the API's address behind that bearer token")
	}
	srv, err := listenAPI(ctx, net.JoinHostPort(*host, *port), api, beside, true, logger)
	if err != nil {
		if metricsLn != nil {
			_ = metricsLn.Close()
		}
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stdout, "AxonTask serve\n  listening:   http://%s\n  dashboard:   http://%s/ (behind HTTPS: its cookie is Secure)\n  MCP:         http://%s%s (Streamable HTTP)\n", srv.ln.Addr(), srv.ln.Addr(), srv.ln.Addr(), mcpserver.Path)
	if metricsLn != nil {
		fmt.Fprintf(stdout, "  metrics:     http://%s/metrics\n", metricsLn.Addr())
	}
	relay := wiring.Relay(store, store.Checkpoint("relay"), pub, rcfg, logger)
	projector, err := projections.NewRunner(store, projections.TaskViews(store), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	pruner, err := newRetention(store, quotas, logger)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	dispatcher, sender, err := wiring.ObservedWebhookDelivery(store, os.Getenv, logger, reg.WebhookAttempted)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	feedIndexer, err := projections.NewRunner(store, store.TenantFeedIndex(), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	usageCounter, err := projections.NewRunner(store, store.UsageCounters(), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "relay", relayLockKey, relay.Run))
		},
		func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "retention", retentionLockKey, pruner.Run))
		},
		func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "projector", projectorLockKey, projector.Run))
		},
		func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "webhook dispatch", webhookLockKey, dispatcher.Run))
		},
		func(ctx context.Context) error { return ignoreCanceled(sender.Run(ctx)) },
		func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "tenant feed indexer", feedLockKey, feedIndexer.Run))
		},
		func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "usage counters", usageLockKey, usageCounter.Run))
		},
		meter.Run,
	}
	if metricsJob != nil {
		jobs = append(jobs, metricsJob)
	}
	if reporter != nil {
		jobs = append(jobs, func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "stripe meter reporter", metersLockKey, reporter.Run))
		})
	}
	if tlog != nil {
		jobs = append(jobs, func(ctx context.Context) error {
			return ignoreCanceled(store.RunElected(ctx, "transparency log", translogLockKey, tlog.Run))
		})
	}
	return srv.serve(ctx, jobs...)
}

// runWorker runs a worker process on Postgres and Redis: a pool of runners
// fed by the workers' consumer group, and a watchdog. Run any number.
func runWorker(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf prodFlags
	pf.register(fs)
	host, _ := os.Hostname()
	id := fs.String("worker-id", fmt.Sprintf("%s-%d", strings.ReplaceAll(host, " ", "-"), os.Getpid()), "this worker's name in the task log")
	concurrency := fs.Int("concurrency", 4, "tasks run at once")
	leaseTTL := fs.Duration("lease-ttl", worker.DefaultLeaseTTL, "how long a dead worker's tasks stay claimed")
	renew := fs.Duration("renew-interval", worker.DefaultRenewInterval, "how often leases are renewed (at most half of -lease-ttl)")
	sweep := fs.Duration("watchdog-interval", worker.DefaultSweepInterval, "how often the watchdog looks for expired leases")
	metricsAddr := fs.String("metrics-addr", os.Getenv("METRICS_ADDR"), "serve /metrics on this host:port (METRICS_ADDR); none by default")
	var sf sandboxFlags
	sf.register(fs)
	var df dockerFlags
	df.register(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	logger := newLogger(stderr).With("worker_id", *id)
	sh, err := sf.shellExecutor(logger, true)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer sh.Close()
	dk, err := df.dockerExecutor(ctx, *id, logger)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer func() { _ = dk.Close() }()
	reg := metrics.New()
	store, rcfg, _, closeAll, err := pf.open(ctx, logger, reg)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer closeAll()
	quotas, err := wiring.Quotas(store, os.Getenv)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	vault, err := prodVault(store, logger)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	runner, err := newRunner(store, quotas, sh.Executor, dk.Executor, worker.Config{WorkerID: *id, LeaseTTL: *leaseTTL, RenewInterval: *renew, Logger: logger, SecretsFunc: vault.Resolve, ClaimedFunc: reg.ObserveDispatch})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	work, err := bus.NewRedisWorkSubscriber(rcfg, *id)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer func() { _ = work.Close() }()
	controls, err := bus.NewRedisFanOutSubscriber(rcfg)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer func() { _ = controls.Close() }()
	pool := worker.NewPool(runner, work, controls, *concurrency, logger).SubscribePerSlot()
	if err := pool.Subscribe(ctx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	watchdog := worker.NewWatchdog(store, worker.WatchdogConfig{SweepInterval: *sweep, Logger: logger})
	g, gctx := errgroup.WithContext(ctx)
	if *metricsAddr != "" {
		// A worker has no API: its metrics (dispatch latency, commits, its
		// dependencies' outages, the runtime's) have an address of their own.
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("worker: metrics: listen: %w (set METRICS_ADDR or -metrics-addr to another host:port)", err)
		}
		logger.Info("worker metrics", "url", "http://"+ln.Addr().String()+"/metrics")
		g.Go(func() error { return serveUntilDone(gctx, ln, reg.Handler(), logger) })
	}
	logger.Info("worker started", "concurrency", *concurrency)
	g.Go(func() error { return ignoreCanceled(pool.Run(gctx)) })
	g.Go(func() error { return ignoreCanceled(watchdog.Run(gctx)) })
	if err := g.Wait(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}

// apiStore is what the task API reads and writes: the event store and the
// task list read model beside it.
type apiStore interface {
	eventstore.Store
	eventstore.BatchAppender
	readapi.TaskLister
	eventstore.WebhookSecretStore
	eventstore.WebhookDeliveryStore
	eventstore.TenantFeedStore
	eventstore.TenantSecretStore
	projections.UsageStore
}

// prodVault returns the vault of tenant secrets on store, sealed by the
// keys of SECRETS_KEY and SECRETS_KEY_PREVIOUS. Without SECRETS_KEY the
// vault lists and deletes secrets but sets and resolves none, with an
// error that says so; the log says it once.
func prodVault(store secrets.Store, logger *slog.Logger) (*secrets.Vault, error) {
	keys, err := wiring.Keyring(os.Getenv)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		logger.Warn("tenant secrets are disabled: SECRETS_KEY is unset; POST /v1/secrets answers 503 and tasks that refer to a secret fail")
	} else {
		logger.Info("tenant secrets enabled", "key_id", keys.CurrentID())
	}
	return secrets.NewVault(store, keys, nil), nil
}

// billingSide returns what an API process runs for usage and billing, as
// the environment configures them (internal/wiring): the usage meter, the
// Stripe service (nil: billing off) and the Stripe meter reporter (nil
// without meters), which keeps its place in cursor. Errors are usage
// errors naming the variable.
func billingSide(store apiStore, quotas *commands.Quotas, cursor stripebilling.Cursor, logger *slog.Logger) (*meters.Meter, *stripebilling.Service, *stripebilling.Reporter, error) {
	meter, err := wiring.UsageMeter(store, os.Getenv, logger)
	if err != nil {
		return nil, nil, nil, usageError(err.Error())
	}
	sb, err := wiring.StripeBilling(store, quotas.Catalog(), os.Getenv, logger)
	if err != nil {
		return nil, nil, nil, usageError(err.Error())
	}
	reporter, err := wiring.StripeMeterReporter(sb, store, cursor, os.Getenv, logger)
	if err != nil {
		return nil, nil, nil, usageError(err.Error())
	}
	return meter, sb, reporter, nil
}

// subscribedHub returns an SSE hub subscribed to sub until ctx ends; run it.
func subscribedHub(ctx context.Context, sub message.Subscriber, logger *slog.Logger) (*readapi.Hub, error) {
	hub, err := readapi.NewHub(readapi.HubConfig{Subscriber: sub, Logger: logger})
	if err != nil {
		return nil, err
	}
	return hub, hub.Subscribe(ctx)
}

// taskAPI builds the HTTP API on store, with live events from hub, the
// cancel command's holds published on ctl (the workers' control topic),
// callers authenticated by identity, and resume tokens signed with the key
// derived from resumeSecret; its command handlers are decorated with logger
// and reg, which also counts its SSE streams and rate-limit refusals; tenant secrets are kept in vault, usage counted by meter and
// billed through sb (nil: billing off).
func taskAPI(store apiStore, quotas *commands.Quotas, hub *readapi.Hub, ctl message.Publisher, identity *commands.IdentitySide, limiter ratelimit.Limiter, resumeSecret []byte, logger *slog.Logger, reg *metrics.Registry, tlog *translog.Log, vault *secrets.Vault, meter *meters.Meter, sb *stripebilling.Service) (http.Handler, error) {
	requestLimit, err := perMinuteEnv("RATE_LIMIT_PER_MINUTE", readapi.DefaultRequestLimit)
	if err != nil {
		return nil, err
	}
	authLimit, err := perMinuteEnv("AUTH_RATE_LIMIT_PER_MINUTE", readapi.DefaultAuthLimit)
	if err != nil {
		return nil, err
	}
	start, err := wiring.StartTask(store, quotas, logger, reg)
	if err != nil {
		return nil, err
	}
	startBatch, err := wiring.StartTasks(store, quotas, logger, reg)
	if err != nil {
		return nil, err
	}
	cancel, err := commands.NewCancelTaskHandler(store, commands.CancelTaskConfig{HoldOutput: bus.HoldFunc(ctl, logger)})
	if err != nil {
		return nil, err
	}
	hooks, err := wiring.Webhooks(store, os.Getenv, logger, reg)
	if err != nil {
		return nil, err
	}
	secretHandlers, err := wiring.Secrets(store, vault, logger, reg)
	if err != nil {
		return nil, err
	}
	views, err := wiring.BillingViews(store, quotas.Catalog())
	if err != nil {
		return nil, err
	}
	var stripeBilling readapi.StripeBilling
	if sb != nil {
		stripeBilling = sb // a nil *Service would be a non-nil interface
	}
	return readapi.New(readapi.Config{
		Store: store, Hub: hub, Start: start, StartBatch: startBatch, Cancel: commands.Decorate(cancel, logger, reg), Tasks: store, TokenKey: resumeSecret, Logger: logger,
		Authenticator: identity.Authenticator, Identity: identity.IdentityHandlers, Webhooks: hooks, Secrets: secretHandlers, Feed: store,
		RateLimiter: limiter, RequestLimit: requestLimit, AuthLimit: authLimit, CORSOrigins: corsOrigins(),
		Log: logPort(tlog), ReceiptsFunc: wiring.ReceiptsFunc(quotas), Meter: meter, Usage: store, Billing: views, Stripe: stripeBilling,
		StreamFunc: reg.StreamOpened, RateLimitedFunc: reg.RateLimited,
	})
}

// corsOrigins returns CORS_ALLOWED_ORIGINS, comma-separated.
func corsOrigins() []string {
	var out []string
	for o := range strings.SplitSeq(os.Getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// perMinuteEnv reads a per-minute rate limit from the environment variable
// name, or returns def when it is unset.
func perMinuteEnv(name string, def ratelimit.Limit) (ratelimit.Limit, error) {
	s := os.Getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return ratelimit.Limit{}, fmt.Errorf("%s is %q; set it to a number of requests per minute between 1 and 1000000", name, s)
	}
	return ratelimit.PerMinute(n), nil
}

// apiBeside is what an API process (dev, serve) runs beside its task API:
// the store its /readyz asks, the handler of its /metrics (nil: no
// /metrics on the API's address), the SSE hub, the identity side whose
// API key usage it writes and the usage meter that counts MCP calls.
type apiBeside struct {
	store    eventstore.Store
	metrics  http.Handler
	hub      *readapi.Hub
	identity *commands.IdentitySide
	meter    *meters.Meter
	// oauth signs MCP clients in (see newOAuth).
	oauth *oauth.Server
}

// apiServer is an API process's HTTP server, listening: see listenAPI.
type apiServer struct {
	ln      net.Listener
	handler http.Handler
	beside  apiBeside
	logger  *slog.Logger
}

// listenAPI listens on addr for api, with the MCP endpoint beside it (see
// withMCP, which behindProxy is passed to) and the operators' endpoints
// around both (see withOps). Serve it; on an error nothing is listening.
func listenAPI(ctx context.Context, addr string, api http.Handler, beside apiBeside, behindProxy bool, logger *slog.Logger) (*apiServer, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w (set API_PORT or -port to another port)", err)
	}
	handler, err := withMCP(api, beside.identity.Authenticator, beside.oauth, beside.meter, ln, behindProxy, logger)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	return &apiServer{ln: ln, handler: withOps(beside.store, beside.metrics, handler), beside: beside, logger: logger}, nil
}

// metricsBehindToken serves metrics to requests that carry the bearer
// token; others get a 401 problem that says what to send.
func metricsBehindToken(metrics http.Handler, token string) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="axontask-metrics"`)
			api.WriteProblem(w, api.Problem{Type: api.ProblemTypeBase + "unauthenticated", Title: "Unauthenticated", Status: http.StatusUnauthorized,
				Detail: "metrics need the operator's token: send Authorization: Bearer <METRICS_TOKEN>", Field: "Authorization"})
			return
		}
		metrics.ServeHTTP(w, r)
	})
}

// serve serves s until ctx ends (see serveUntilDone), running beside it
// the hub and the API key usage writer, and then jobs.
func (s *apiServer) serve(ctx context.Context, jobs ...func(context.Context) error) error {
	return serveUntilDone(ctx, s.ln, s.handler, s.logger, append([]func(context.Context) error{
		func(ctx context.Context) error { return ignoreCanceled(s.beside.hub.Run(ctx)) },
		func(ctx context.Context) error { s.beside.identity.Usage.Run(ctx); return nil },
	}, jobs...)...)
}

// serveUntilDone serves h on ln and runs the background jobs until ctx
// ends, then shuts the server down gracefully.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, jobs ...func(context.Context) error) error {
	// Requests' contexts end at shutdown, so that open streams close
	// instead of holding the shutdown for its whole timeout.
	baseCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return baseCtx },
	}
	srv.RegisterOnShutdown(cancelRequests)
	g, gctx := errgroup.WithContext(ctx)
	for _, job := range jobs {
		g.Go(func() error { return job(gctx) })
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}
