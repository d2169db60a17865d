package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/fly"
	"github.com/axontask/axontask/executors/mock"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/metrics"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/mcpserver"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi"
	"github.com/axontask/axontask/retention"
	"github.com/axontask/axontask/secrets"
	"github.com/axontask/axontask/webhooks"
)

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// runDev runs AxonTask in one process on an embedded SQLite file: the task
// API, the relay on Watermill's in-process GoChannel, a worker pool running
// mock, shell and docker tasks, and the watchdog.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("AXONTASK_DATA_DIR", ".axontask"), "directory of the embedded store")
	host := fs.String("host", envOr("API_HOST", "127.0.0.1"), "address to listen on (API_HOST)")
	port := fs.String("port", envOr("API_PORT", "8080"), "port to listen on (API_PORT)")
	workers := fs.Int("workers", 4, "tasks run at once")
	var sf sandboxFlags
	sf.register(fs)
	var df dockerFlags
	df.register(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	logger := newLogger(stderr)
	sh, err := sf.shellExecutor(logger, false)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer sh.Close()
	hostname, _ := os.Hostname()
	workerID := fmt.Sprintf("dev-%s-%d", strings.ReplaceAll(hostname, " ", "-"), os.Getpid())
	dk, err := df.dockerExecutor(ctx, workerID, logger)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer func() { _ = dk.Close() }()
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("dev: create data dir: %w", err)
	}
	secret, err := tokenSecret(*dataDir)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	// Watermill reports every message nobody subscribes to at info level.
	quiet := watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, quiet)
	defer func() { _ = pubsub.Close() }()
	path := filepath.Join(*dataDir, "events.db")
	reg := metrics.New()
	store, err := sqlite.Open(ctx, path, eventstore.Options{Logger: logger, Committed: bus.NewAnnouncer(pubsub, logger).Committed, ObserveCommitFunc: reg.ObserveCommit})
	if err != nil {
		return fmt.Errorf("dev: open %s: %w", path, err)
	}
	defer func() { _ = store.Close() }()
	reg.WatchStore(store, logger, projections.TaskViewsName, projections.UsageCountersName, webhooks.DispatchName)

	hub, err := subscribedHub(ctx, pubsub, logger)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	identity, err := newIdentity(store, secret, logger, reg)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	creds, err := ensureDevCredentials(ctx, identity, commands.Decorate(commands.NewSetPlanHandler(store, nil), logger, reg), *dataDir)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	quotas, err := wiring.Quotas(store, os.Getenv)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	logEnv, err := devLogEnv(*dataDir)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	tlog, err := wiring.TransparencyLog(store, logEnv, logger)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	meter, sb, reporter, err := billingSide(store, quotas, store.Checkpoint(stripeMetersCheckpoint), logger)
	if err != nil {
		return err
	}
	keys, err := devKeyring(*dataDir)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	vault := secrets.NewVault(store, keys, nil)
	api, err := taskAPI(store, quotas, hub, pubsub, identity, ratelimit.NewMemory(nil), secret, logger, reg, tlog, vault, meter, sb)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	oauthServer, err := newOAuth(store, identity, ratelimit.NewMemory(nil), false, logger)
	if err != nil {
		return err
	}
	if api, err = withDashboard(api, secret, false, sb != nil, oauthServer, logger); err != nil {
		return err
	}
	runner, err := newRunner(store, quotas, sh.Executor, dk.Executor, worker.Config{WorkerID: workerID, Logger: logger, SecretsFunc: vault.Resolve, ClaimedFunc: reg.ObserveDispatch})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	pool := worker.NewPool(runner, pubsub, pubsub, *workers, logger)
	if err := pool.Subscribe(ctx); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	relay := bus.NewRelay(store, pubsub, bus.FileCheckpoint{Path: filepath.Join(*dataDir, "relay.checkpoint")}, logger)
	// Re-queues the tasks a crashed dev process left running, once their
	// leases expire.
	watchdog := worker.NewWatchdog(store, worker.WatchdogConfig{Logger: logger})
	projector, err := projections.NewRunner(store, projections.TaskViews(store), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	usageCounter, err := projections.NewRunner(store, store.UsageCounters(), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	pruner, err := newRetention(store, quotas, logger)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	dispatcher, sender, err := wiring.ObservedWebhookDelivery(store, os.Getenv, logger, reg.WebhookAttempted)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}

	srv, err := listenAPI(ctx, net.JoinHostPort(*host, *port), api, apiBeside{store: store, metrics: reg.Handler(), hub: hub, identity: identity, meter: meter, oauth: oauthServer}, false, logger)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	base := "http://" + srv.ln.Addr().String()
	fmt.Fprintf(stdout, "AxonTask dev\n  event store: %s\n  sandbox:     %s\n  docker:      %s\n  listening:   %s\n  dashboard:   %s/ (sign in as the user below)\n  health:      %s/healthz  %s/readyz\n  MCP:         %s%s (Streamable HTTP; stdio: axontask mcp)\n  user:        %s (password in %s)\n  API key:     %s\n  try:         curl -s -H 'Authorization: Bearer %s' -X POST %s/mcp/start_task -d '{\"name\":\"demo\",\"adapter\":\"mock\",\"args\":{\"steps\":5}}'\n",
		path, sh.State, dk.State, base, base, base, base, base, mcpserver.Path, creds.Email, filepath.Join(*dataDir, "dev-credentials.json"), creds.APIKey, creds.APIKey, base)

	jobs := []func(context.Context) error{
		func(ctx context.Context) error { return ignoreCanceled(pool.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(relay.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(watchdog.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(projector.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(usageCounter.Run(ctx)) },
		meter.Run,
		func(ctx context.Context) error { return ignoreCanceled(pruner.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(tlog.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(dispatcher.Run(ctx)) },
		func(ctx context.Context) error { return ignoreCanceled(sender.Run(ctx)) },
	}
	if reporter != nil {
		jobs = append(jobs, func(ctx context.Context) error { return ignoreCanceled(reporter.Run(ctx)) })
	}
	if err := srv.serve(ctx, jobs...); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// newRunner builds a runner of mock tasks, shell tasks on sh, docker tasks
// on dk and fly tasks (through the Fly API at FLY_API_URL and
// FLY_LOGS_API_URL, Fly's own by default), on store, that holds each tenant
// to its plan's concurrency and each task to its plan's limits.
func newRunner(store worker.Store, quotas *commands.Quotas, sh, dk executors.Executor, cfg worker.Config) (*worker.Runner, error) {
	fl, err := fly.New(fly.Config{APIURL: os.Getenv("FLY_API_URL"), LogsURL: os.Getenv("FLY_LOGS_API_URL"), Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("FLY_API_URL, FLY_LOGS_API_URL: %w", err)
	}
	cfg.PlanFunc = wiring.PlanFunc(quotas)
	cfg.Executors = map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{}), domain.AdapterShell: sh, domain.AdapterDocker: dk, domain.AdapterFly: fl}
	return worker.New(store, cfg)
}

// withOps serves the task API beside the operators' endpoints, none of
// which needs a credential: /healthz (the process is up), /readyz (the
// event store answers) and /metrics (reg's metrics, for Prometheus; left
// out when reg is nil).
func withOps(store eventstore.Store, metrics http.Handler, api http.Handler) http.Handler {
	r := chi.NewRouter()
	if metrics != nil {
		r.Method(http.MethodGet, "/metrics", metrics)
	}
	r.Method(http.MethodGet, "/healthz", readapi.Health())
	r.Method(http.MethodGet, "/readyz", readapi.Ready(store))
	r.Mount("/", api)
	return r
}

// tokenSecret returns the secret that the access and resume token keys are
// derived from, each under its own label: JWT_SECRET when set, else a
// random secret kept in the data dir (token.key) so tokens survive
// restarts.
func tokenSecret(dataDir string) ([]byte, error) {
	if os.Getenv("JWT_SECRET") != "" {
		return jwtSecret()
	}
	path := filepath.Join(dataDir, "token.key")
	if b, err := os.ReadFile(path); err == nil {
		return hex.DecodeString(strings.TrimSpace(string(b)))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

// devKeyring returns the keyring of tenant secrets: SECRETS_KEY (and
// SECRETS_KEY_PREVIOUS) when set, else a random key kept in the data dir
// (secrets.key, base64, readable by its owner only), made on first use, so
// that secrets survive restarts.
func devKeyring(dataDir string) (*secrets.Keyring, error) {
	if os.Getenv(wiring.EnvSecretsKey) != "" {
		return wiring.Keyring(os.Getenv)
	}
	path := filepath.Join(dataDir, "secrets.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := secrets.ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return secrets.NewKeyring(key), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, raw, err := secrets.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return secrets.NewKeyring(key), nil
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// newRetention builds the job that prunes finished tasks past their
// tenant's plan's retention.
func newRetention(store retention.Store, quotas *commands.Quotas, logger *slog.Logger) (*retention.Job, error) {
	return retention.New(retention.Config{
		Store: store,
		RetentionFunc: func(ctx context.Context, tenantID string) (int, error) {
			p, err := quotas.Plan(ctx, tenantID)
			return p.RetentionDays, err
		},
		MinRetentionDays: quotas.Catalog().MinRetentionDays(),
		Logger:           logger,
	})
}
