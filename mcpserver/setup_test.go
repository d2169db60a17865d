package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/secretscan"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/mcpserver"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi"
	"github.com/axontask/axontask/translog"
	"github.com/axontask/axontask/usage"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testpg.StopAll()
	os.Exit(code)
}

// testPassword is every test user's password.
const testPassword = testidentity.Password

// Tenant labels of a bundle.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
)

// progressInterval is the tests' Config.ProgressInterval.
const progressInterval = time.Second

// bundle is the real task API on a fresh store, wired as axontask dev wires
// it (an in-process bus, the SSE hub, a worker pool running mock tasks, the
// task list projection), with the MCP endpoint at /mcp beside it as cmd
// mounts it, and two tenants with an API key each.
type bundle struct {
	url  string
	keys map[string]string
	// meter counts the MCP calls; the test flushes it.
	meter *usage.Meter
}

// forEachStore runs test as a parallel subtest against a bundle on a fresh
// store of each engine.
func forEachStore(t *testing.T, test func(t *testing.T, b *bundle)) {
	t.Helper()
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newBundle(t, e))
		})
	}
}

// sqliteBundle returns a bundle on SQLite, for the tests whose subject is
// the protocol rather than the store.
func sqliteBundle(t *testing.T) *bundle {
	t.Helper()
	return newBundle(t, teststores.Engines[0])
}

func newBundle(t *testing.T, e teststores.Engine) *bundle {
	t.Helper()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	s := e.Open(t, eventstore.Options{Committed: bus.NewAnnouncer(pubsub, nil).Committed})
	// Nothing the server logs may hold a secret.
	logger := secretscan.New(t, testPassword).Logger()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	background := func(run func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(ctx) }()
	}
	hub, err := readapi.NewHub(readapi.HubConfig{Subscriber: pubsub, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	background(hub.Run)
	start, err := commands.NewStartTaskHandler(s, commands.StartTaskConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// As serve and dev wire it: the worker holds a printing task's output
	// while the cancel request goes in.
	cancelTask, err := commands.NewCancelTaskHandler(s, commands.CancelTaskConfig{HoldOutput: bus.HoldFunc(pubsub, nil)})
	if err != nil {
		t.Fatal(err)
	}
	identity := newIdentity(t, s, logger)
	background(func(ctx context.Context) error { identity.Usage.Run(ctx); return nil })
	projector, err := projections.NewRunner(s, projections.TaskViews(s), projections.RunnerConfig{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	background(projector.Run)
	tlog := newLog(t, s)
	background(tlog.Run)
	meter, err := usage.NewMeter(usage.Config{Store: s, FlushInterval: usage.MaxFlushInterval, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	counter, err := projections.NewRunner(s, s.UsageCounters(), projections.RunnerConfig{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	background(counter.Run)
	api, err := readapi.New(readapi.Config{
		Meter: meter, Usage: s,
		Log:   tlog,
		Store: s, Hub: hub, Start: start, Cancel: cancelTask, Authenticator: identity, Identity: identity.IdentityHandlers, Tasks: s,
		TokenKey:     bytes.Repeat([]byte("k"), 32),
		RequestLimit: ratelimit.PerMinute(1_000_000),
		AuthLimit:    ratelimit.PerMinute(1_000_000),
		Logger:       logger,
		PingInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := worker.New(s, worker.Config{
		WorkerID:  "w1",
		Executors: map[domain.Adapter]executors.Executor{domain.AdapterMock: mock.New(mock.Options{})},
		Logger:    logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	pool := worker.NewPool(runner, pubsub, pubsub, 8, logger)
	if err := pool.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	background(pool.Run)

	// As cmd/axontask mounts it: the endpoint at /mcp, its tools calling the
	// API at the listener's own address with each caller's credential.
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	tools, err := mcpserver.BearerClient(base, client.WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	server, err := mcpserver.New(mcpserver.Config{ClientFunc: tools, ProgressInterval: progressInterval, Logger: logger,
		CalledFunc: func(tenantID string) { meter.Tenant(tenantID).MCPCall() }})
	if err != nil {
		t.Fatal(err)
	}
	endpoint, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPConfig{Authenticator: identity, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = mcpserver.WithEndpoint(api, endpoint)
	hs.Start()
	t.Cleanup(func() {
		// Streams end when the hub stops; then the server can close.
		cancel()
		wg.Wait()
		hs.Close()
	})

	b := &bundle{url: hs.URL, keys: map[string]string{}, meter: meter}
	for _, label := range []string{tenantA, tenantB} {
		b.keys[label] = newTenant(t, identity, label)
	}
	return b
}

// newIdentity returns an Identity on s whose access tokens last a minute.
func newIdentity(t *testing.T, s teststores.Store, logger *slog.Logger) *testidentity.Identity {
	t.Helper()
	id, err := testidentity.New(s, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newTenant registers label@example.com, the owner of a new tenant named
// label, and returns an API key there with tasks:read and tasks:write.
func newTenant(t *testing.T, id *testidentity.Identity, label string) string {
	t.Helper()
	_, key, err := testidentity.Tenant(t.Context(), id, label)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// bearerTransport adds "Authorization: Bearer <token>" to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// progressLog collects the progress notifications a client receives.
type progressLog struct {
	mu     sync.Mutex
	params []*mcp.ProgressNotificationParams
}

func (p *progressLog) handle(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.params = append(p.params, req.Params)
}

// of returns the notifications of token.
func (p *progressLog) of(token string) []*mcp.ProgressNotificationParams {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*mcp.ProgressNotificationParams
	for _, n := range p.params {
		if n.ProgressToken == token {
			out = append(out, n)
		}
	}
	return out
}

// session is an MCP client session of the official SDK, with the progress
// notifications it received.
type session struct {
	*mcp.ClientSession
	progress *progressLog

	once    sync.Once
	outputs map[string]*jsonschema.Resolved // tool → its output schema
}

// outputSchema returns tool's output schema, as tools/list gives it.
func (s *session) outputSchema(t *testing.T, tool string) *jsonschema.Resolved {
	t.Helper()
	s.once.Do(func() {
		s.outputs = map[string]*jsonschema.Resolved{}
		res, err := s.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range res.Tools {
			b, err := json.Marshal(tl.OutputSchema)
			if err != nil {
				t.Fatal(err)
			}
			var schema jsonschema.Schema
			if err := json.Unmarshal(b, &schema); err != nil {
				t.Fatal(err)
			}
			if s.outputs[tl.Name], err = schema.Resolve(nil); err != nil {
				t.Fatal(err)
			}
		}
	})
	r, ok := s.outputs[tool]
	if !ok {
		t.Fatalf("no output schema of %s", tool)
	}
	return r
}

// connect opens an MCP session over Streamable HTTP with tenant's API key,
// asking for protocol version (empty: the SDK's latest), and logs the
// version negotiated.
func (b *bundle) connect(t *testing.T, tenant, version string) *session {
	t.Helper()
	p := &progressLog{}
	c := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, &mcp.ClientOptions{ProgressNotificationHandler: p.handle})
	transport := &mcp.StreamableClientTransport{
		Endpoint:   b.url + mcpserver.Path,
		HTTPClient: &http.Client{Transport: bearerTransport{b.keys[tenant]}},
	}
	cs, err := c.Connect(t.Context(), transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	t.Logf("MCP over Streamable HTTP: protocol version %s negotiated (asked for %q), server %+v",
		cs.InitializeResult().ProtocolVersion, version, cs.InitializeResult().ServerInfo)
	return &session{ClientSession: cs, progress: p}
}

// newLog returns a transparency log on s with fixed test keys.
func newLog(t *testing.T, s translog.Store) *translog.Log {
	t.Helper()
	signer, vkey, err := integrity.Ed25519Signer("test.axontask.local/log", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	rsigner, rvkey, err := integrity.Ed25519Signer("test.axontask.local/log/receipts", bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	l, err := translog.New(translog.Config{Store: s, Signer: signer, SignerKey: vkey, ReceiptSigner: rsigner, ReceiptKey: rvkey, CheckpointInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
