package client_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/secretscan"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/plans"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi"
)

// testPassword is every test user's password.
const testPassword = testidentity.Password

// Tenant labels of a bundle.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
)

// serverOpts vary a server.
type serverOpts struct {
	// plans, when set, is the environment of the plan catalog whose quotas
	// starts apply.
	plans map[string]string
	// requestLimit is the API's RequestLimit (default: never in the way).
	requestLimit ratelimit.Limit
	// logger receives the server's logs (default: discarded).
	logger *slog.Logger
	// now is the clock of the quotas and of the API (default time.Now).
	now func() time.Time
}

// server is the real task API on a store, wired as axontask dev wires it:
// announcements on an in-process bus, the SSE hub, a worker pool running
// mock tasks, the task list projection, and /healthz and /readyz.
type server struct {
	url      string
	store    teststores.Store
	identity *testidentity.Identity
	// api serves the API without the fault.
	api http.Handler

	// fault, when set, may answer a request instead of the API (it returns
	// true when it did).
	fault atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]

	mu       sync.Mutex
	requests map[string]int // "METHOD path" → count

	stop func()
}

// openStore opens a store of engine e with its appends announced on a
// fresh in-process bus.
func openStore(t *testing.T, e teststores.Engine) (teststores.Store, *gochannel.GoChannel) {
	t.Helper()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	return e.Open(t, eventstore.Options{Committed: bus.NewAnnouncer(pubsub, nil).Committed}), pubsub
}

// startServer serves the API on s; stop shuts everything down.
func startServer(s teststores.Store, pubsub *gochannel.GoChannel, o serverOpts) (*server, error) {
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	background := func(run func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(ctx) }()
	}
	fail := func(err error) (*server, error) {
		cancel()
		wg.Wait()
		return nil, err
	}

	hub, err := readapi.NewHub(readapi.HubConfig{Subscriber: pubsub, Logger: logger})
	if err != nil {
		return fail(err)
	}
	if err := hub.Subscribe(ctx); err != nil {
		return fail(err)
	}
	background(hub.Run)
	catalog, err := plans.FromEnv(func(k string) string { return o.plans[k] })
	if err != nil {
		return fail(err)
	}
	var startCfg commands.StartTaskConfig
	if o.plans != nil {
		startCfg.Quotas = commands.NewQuotas(s, catalog, o.now)
	}
	start, err := commands.NewStartTaskHandler(s, startCfg)
	if err != nil {
		return fail(err)
	}
	startBatch, err := commands.NewStartTasksHandler(s, startCfg)
	if err != nil {
		return fail(err)
	}
	cancelTask, err := commands.NewCancelTaskHandler(s, commands.CancelTaskConfig{HoldOutput: bus.HoldFunc(pubsub, nil)})
	if err != nil {
		return fail(err)
	}
	identity, err := testidentity.New(s, logger, nil)
	if err != nil {
		return fail(err)
	}
	background(func(ctx context.Context) error { identity.Usage.Run(ctx); return nil })
	views, ok := s.(projections.TaskViewStore)
	if !ok {
		return fail(fmt.Errorf("%T does not keep task views", s))
	}
	projector, err := projections.NewRunner(s, projections.TaskViews(views), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return fail(err)
	}
	background(projector.Run)
	if o.requestLimit == (ratelimit.Limit{}) {
		o.requestLimit = ratelimit.PerMinute(1_000_000)
	}
	tlog, err := newLog(s)
	if err != nil {
		return fail(err)
	}
	background(tlog.Run)
	hooks, err := wiring.Webhooks(s, func(string) string { return "" }, logger, nil)
	if err != nil {
		return fail(err)
	}
	if idx, ok := s.(interface{ TenantFeedIndex() projections.Projection }); ok {
		indexer, err := projections.NewRunner(s, idx.TenantFeedIndex(), projections.RunnerConfig{Logger: logger})
		if err != nil {
			return fail(err)
		}
		background(indexer.Run)
	}
	api, err := readapi.New(readapi.Config{
		Log:   tlog,
		Store: s, Hub: hub, Start: start, StartBatch: startBatch, Cancel: cancelTask, Authenticator: identity, Identity: identity.IdentityHandlers, Tasks: views, Webhooks: hooks, Feed: s,
		TokenKey:     bytes.Repeat([]byte("k"), 32),
		RequestLimit: o.requestLimit,
		AuthLimit:    ratelimit.PerMinute(1_000_000),
		Logger:       logger,
		PingInterval: 200 * time.Millisecond,
		NowFunc:      o.now,
	})
	if err != nil {
		return fail(err)
	}
	ws, ok := s.(worker.Store)
	if !ok {
		return fail(fmt.Errorf("%T does not keep leases", s))
	}
	runner, err := worker.New(ws, worker.Config{
		WorkerID:  "w1",
		Executors: map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{})},
		Logger:    logger,
	})
	if err != nil {
		return fail(err)
	}
	pool := worker.NewPool(runner, pubsub, pubsub, 8, logger)
	if err := pool.Subscribe(ctx); err != nil {
		return fail(err)
	}
	background(pool.Run)

	srv := &server{store: s, identity: identity, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", readapi.Health())
	mux.Handle("GET /readyz", readapi.Ready(s))
	mux.Handle("/", api)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.mu.Lock()
		srv.requests[r.Method+" "+r.URL.Path]++
		srv.mu.Unlock()
		if f := srv.fault.Load(); f != nil && (*f)(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	srv.url, srv.api = hs.URL, mux
	srv.stop = func() {
		// Streams end when the hub stops; then the server can close.
		cancel()
		wg.Wait()
		hs.Close()
	}
	return srv, nil
}

// count returns how many requests METHOD path the server got.
func (s *server) count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method+" "+path]
}

// setFault makes f answer requests before the API (nil: none).
func (s *server) setFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	if f == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&f)
}

// bundle is a server on a fresh store for one test, with two tenants.
type bundle struct {
	*server
	// owners are the tenants' owners' tokens; keys API keys there with
	// tasks:read and tasks:write.
	owners map[string]commands.Tokens
	keys   map[string]string
}

// forEachStore runs test as a parallel subtest against a bundle on a fresh
// store of each engine.
func forEachStore(t *testing.T, o serverOpts, test func(t *testing.T, b *bundle)) {
	t.Helper()
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newBundle(t, e, o))
		})
	}
}

func newBundle(t *testing.T, e teststores.Engine, o serverOpts) *bundle {
	t.Helper()
	s, pubsub := openStore(t, e)
	if o.logger == nil {
		// Nothing the server logs may hold a secret.
		o.logger = secretscan.New(t, testPassword).Logger()
	}
	srv, err := startServer(s, pubsub, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	b := &bundle{server: srv, owners: map[string]commands.Tokens{}, keys: map[string]string{}}
	for _, label := range []string{tenantA, tenantB} {
		tok, key, err := testidentity.Tenant(t.Context(), srv.identity, label)
		if err != nil {
			t.Fatal(err)
		}
		b.owners[label], b.keys[label] = tok, key
	}
	return b
}

// client returns a client of the bundle's API with tenant's API key (no
// credential when tenant is empty).
func (b *bundle) client(t *testing.T, tenant string, opts ...client.Option) *client.Client {
	t.Helper()
	if tenant != "" {
		opts = append([]client.Option{client.WithToken(b.keys[tenant])}, opts...)
	}
	c, err := client.New(b.url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exampleServer is the server of the runnable examples: SQLite in a
// temporary directory, one tenant, an API key with tasks:read and
// tasks:write. It starts on first use; TestMain stops it.
var exampleServer struct {
	once sync.Once
	url  string
	key  string
	err  error
	stop func()
}

// startExampleServer returns the examples' server's URL and API key.
func startExampleServer() (baseURL, apiKey string) {
	exampleServer.once.Do(func() {
		exampleServer.url, exampleServer.key, exampleServer.stop, exampleServer.err = newExampleServer()
	})
	if exampleServer.err != nil {
		panic(exampleServer.err)
	}
	return exampleServer.url, exampleServer.key
}

func newExampleServer() (string, string, func(), error) {
	dir, err := os.MkdirTemp("", "axontask-client-example-")
	if err != nil {
		return "", "", nil, err
	}
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"), eventstore.Options{Committed: bus.NewAnnouncer(pubsub, nil).Committed})
	if err != nil {
		_ = pubsub.Close()
		_ = os.RemoveAll(dir)
		return "", "", nil, err
	}
	cleanup := func() {
		_ = s.Close()
		_ = pubsub.Close()
		_ = os.RemoveAll(dir)
	}
	srv, err := startServer(s, pubsub, serverOpts{})
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	_, key, err := testidentity.Tenant(context.Background(), srv.identity, "example")
	if err != nil {
		srv.stop()
		cleanup()
		return "", "", nil, err
	}
	return srv.url, key, func() { srv.stop(); cleanup() }, nil
}

// stopExampleServer stops the examples' server if it started.
func stopExampleServer() {
	if exampleServer.stop != nil {
		exampleServer.stop()
	}
}
