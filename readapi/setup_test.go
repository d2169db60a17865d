package readapi_test

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/axontask/axontask/billing"
	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/secretscan"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/plans"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi"
	"github.com/axontask/axontask/secrets"
	"github.com/axontask/axontask/usage"
	"github.com/axontask/axontask/webhooks"
)

// bundle is the API on a fresh store, with a worker runner to run tasks.
type bundle struct {
	url string
	// handler is the API's handler (readapi.New's); client sends requests
	// to it and checks each request and answer against openapi.json.
	handler http.Handler
	hub     *readapi.Hub
	client  *http.Client
	store   teststores.Store
	runner  *worker.Runner
	// lister is the task list's projection runner (setupOpts.list,
	// listByHand).
	lister   *projections.Runner
	identity *testidentity.Identity
	// meter is the API's usage meter (setupOpts.usage).
	meter *usage.Meter
	// tenants maps the tests' tenant labels (tenantA, tenantB) to real
	// tenant ids; keys to API keys with tasks:read and tasks:write there.
	tenants map[string]string
	keys    map[string]string
}

// setupOpts varies the bundle.
type setupOpts struct {
	// list serves GET /v1/tasks, with a projection runner following the feed.
	list bool
	// listByHand serves GET /v1/tasks with a read model that follows the
	// feed only when the test calls bundle.catchUpList.
	listByHand bool
	// relayOnly feeds the hub from the relay alone: no announcements.
	relayOnly bool
	// hub bounds the streams' queues (Subscriber is set by the setup).
	hub readapi.HubConfig
	// writeTimeout is the API's WriteTimeout (default its default).
	writeTimeout time.Duration
	// requestLimit is the API's RequestLimit (default: high enough never
	// to get in the way of a test).
	requestLimit ratelimit.Limit
	// cors is the API's CORSOrigins.
	cors []string
	// plans, when set, are the environment of the plan catalog that the
	// start handler's quotas apply.
	plans map[string]string
	// now is the clock of the quotas and of the API (default time.Now).
	now func() time.Time
	// pingInterval is the API's PingInterval (default 50 ms).
	pingInterval time.Duration
	// log serves the transparency log (/v1/log, receipts), with its
	// builder following the feed; noReceipts puts every tenant on a plan
	// without receipts; noReceiptKey gives the log no receipt key.
	log, noReceipts, noReceiptKey bool
	// noSecretsKey serves /v1/secrets without an operator key, as serve
	// without SECRETS_KEY does.
	noSecretsKey bool
	// noHijack serves the API through a ResponseWriter that cannot be
	// hijacked, as HTTP/2's: streams stay in their handlers.
	noHijack bool
	// usage serves GET /v1/usage, with a meter the test flushes
	// (bundle.meter) and the usage counters' runner following the feed,
	// and GET /v1/billing at the default plans' prices.
	usage bool
	// stripe, when set, is a stripe-mock's URL: billing is enabled, with
	// the webhook secret stripeSecret.
	stripe string
}

// stripeSecret is the Stripe webhook secret of setupOpts.stripe.
const stripeSecret = "whsec_readapi_tests"

// flushOnly is a ResponseWriter that flushes and does nothing else: no
// Hijack, no deadlines.
type flushOnly struct{ http.ResponseWriter }

func (f flushOnly) Flush() { f.ResponseWriter.(http.Flusher).Flush() }

// forEachStore runs test as a parallel subtest against a bundle on a fresh
// store of each engine.
func forEachStore(t *testing.T, o setupOpts, test func(t *testing.T, b *bundle)) {
	t.Helper()
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, bundleOn(t, e, o))
		})
	}
}

// bundleOn returns a bundle on a fresh store of engine e, with an
// in-process bus between them: appends are announced to the hub (and, with
// relayOnly, relayed from the feed instead).
func bundleOn(t *testing.T, e teststores.Engine, o setupOpts) *bundle {
	t.Helper()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	opts := eventstore.Options{}
	if !o.relayOnly {
		opts.Committed = bus.NewAnnouncer(pubsub, nil).Committed
	}
	return newBundle(t, e.Open(t, opts), pubsub, o)
}

func newBundle(t *testing.T, s teststores.Store, pubsub message.Subscriber, o setupOpts) *bundle {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	background := func(run func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(ctx) }()
	}

	// Everything the API logs must be free of secrets.
	logs := secretscan.New(t, testPassword, testSecretValue).Logger()
	hubCfg := o.hub
	hubCfg.Subscriber = pubsub
	hubCfg.Logger = logs
	hub, err := readapi.NewHub(hubCfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	background(hub.Run)
	if o.relayOnly {
		relay := bus.NewRelay(s, pubsub.(message.Publisher), bus.FileCheckpoint{Path: filepath.Join(t.TempDir(), "relay.checkpoint")}, nil)
		background(relay.Run)
	}
	var startCfg commands.StartTaskConfig
	if o.plans != nil {
		catalog, err := plans.FromEnv(func(k string) string { return o.plans[k] })
		if err != nil {
			t.Fatal(err)
		}
		startCfg.Quotas = commands.NewQuotas(s, catalog, o.now)
	}
	start, err := commands.NewStartTaskHandler(s, startCfg)
	if err != nil {
		t.Fatal(err)
	}
	startBatch, err := commands.NewStartTasksHandler(s, startCfg)
	if err != nil {
		t.Fatal(err)
	}
	cancel, err := commands.NewCancelTaskHandler(s, commands.CancelTaskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	identity := newIdentity(t, s, logs)
	if o.requestLimit == (ratelimit.Limit{}) {
		o.requestLimit = ratelimit.PerMinute(1_000_000)
	}
	cfg := readapi.Config{
		Store: s, Hub: hub, Start: start, StartBatch: startBatch, Cancel: cancel, Authenticator: identity, Identity: identity.IdentityHandlers,
		TokenKey:     bytes.Repeat([]byte("k"), 32),
		RequestLimit: o.requestLimit,
		Logger:       logs,
		CORSOrigins:  o.cors,
		PingInterval: cmp.Or(o.pingInterval, 50*time.Millisecond),
		WriteTimeout: o.writeTimeout,
		NowFunc:      o.now,
	}
	guard, err := webhooks.ParseAllowedHosts("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Webhooks, err = commands.NewWebhookHandlers(commands.WebhookConfig{
		Store: s, Secrets: s, Deliveries: s, NewSecretFunc: webhooks.NewSecret, CheckURLFunc: guard.CheckURL,
	}); err != nil {
		t.Fatal(err)
	}
	key, _, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := secrets.NewKeyring(key)
	if o.noSecretsKey {
		keys = nil
	}
	if cfg.Secrets, err = commands.NewSecretHandlers(commands.SecretConfig{Store: s, Vault: secrets.NewVault(s, keys, nil)}); err != nil {
		t.Fatal(err)
	}
	cfg.Feed = s
	if idx, ok := s.(interface{ TenantFeedIndex() projections.Projection }); ok {
		indexer, err := projections.NewRunner(s, idx.TenantFeedIndex(), projections.RunnerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		background(indexer.Run)
	}
	var lister *projections.Runner
	if o.list || o.listByHand {
		cfg.Tasks = s
		var err error
		if lister, err = projections.NewRunner(s, projections.TaskViews(s), projections.RunnerConfig{}); err != nil {
			t.Fatal(err)
		}
		if o.list {
			background(lister.Run)
		}
	}
	if o.log {
		tl := newLog(t, s, !o.noReceiptKey)
		background(tl.Run)
		cfg.Log = tl
		cfg.ReceiptsFunc = func(context.Context, string) (bool, error) { return !o.noReceipts, nil }
	}
	var meter *usage.Meter
	if o.usage {
		if meter, err = usage.NewMeter(usage.Config{Store: s, FlushInterval: usage.MaxFlushInterval, Logger: logs}); err != nil {
			t.Fatal(err)
		}
		counter, err := projections.NewRunner(s, s.UsageCounters(), projections.RunnerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		background(counter.Run)
		views, err := billing.NewViews(billing.Config{Store: s, Catalog: plans.Default()})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Meter, cfg.Usage, cfg.Billing = meter, s, views
	}
	if o.stripe != "" {
		sb, err := stripebilling.New(stripebilling.Config{
			SecretKey: "sk_test_123", WebhookSecret: stripeSecret, APIURL: o.stripe, Store: s, Logger: logs,
			PriceIDs: map[domain.PlanName]string{domain.PlanPro: "price_pro"}, FallbackPlan: domain.PlanTrial,
			SuccessURL: "https://app.example.com/ok", CancelURL: "https://app.example.com/no", ReturnURL: "https://app.example.com/",
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Stripe = sb
	}
	h, err := readapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := h
	if o.noHijack {
		served = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(flushOnly{w}, r) })
	}
	srv := httptest.NewServer(served)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &contractTransport{c: mustContract(t), base: http.DefaultTransport}}

	r, err := worker.New(s, worker.Config{
		WorkerID:  "w1",
		Executors: map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{})},
		Logger:    logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{url: srv.URL, handler: h, hub: hub, client: client, store: s, runner: r, lister: lister, identity: identity, meter: meter, tenants: map[string]string{}, keys: map[string]string{}}
	for _, label := range []string{tenantA, tenantB} {
		b.tenants[label], b.keys[label] = newTenant(t, identity, label)
	}
	return b
}

// testSecretValue is the value the tests give tenant secrets: no log may
// hold it.
const testSecretValue = "tok_9f8e7d6c5b4a3210-secret"

// testPassword is every test user's password.
const testPassword = testidentity.Password

// newIdentity returns an Identity on s whose access tokens last a minute.
func newIdentity(t *testing.T, s teststores.Store, logger *slog.Logger) *testidentity.Identity {
	t.Helper()
	id, err := testidentity.New(s, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newTenant registers a user whose tenant is named label and returns the
// tenant's id and an API key there with tasks:read and tasks:write.
func newTenant(t *testing.T, id *testidentity.Identity, label string) (tenantID, key string) {
	t.Helper()
	tok, key, err := testidentity.Tenant(t.Context(), id, label)
	if err != nil {
		t.Fatal(err)
	}
	return tok.TenantID, key
}
