package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/webhooks"
)

// webhookEnv is the environment of the webhook step's processes: loopback
// receivers allowed, over http.
func webhookEnv(key string) string {
	return map[string]string{"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_ALLOW_HTTP": "true"}[key]
}

// hookSink is a receiver that notes when each event reached it, once per
// endpoint path.
type hookSink struct {
	mu   sync.Mutex
	seen map[string]time.Time // path + event id → first arrival
	all  chan struct{}
	want int
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	at := time.Now()
	var env struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(body, &env)
	h.mu.Lock()
	key := r.URL.Path + " " + env.EventID
	if _, dup := h.seen[key]; !dup {
		h.seen[key] = at
		if len(h.seen) == h.want {
			close(h.all)
		}
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// webhooks measures webhook delivery through serve's wiring on Postgres:
// the latency from an event's commit to its receiver at webhookRate
// events/s to one endpoint, and the deliveries per second of a burst of
// webhookBurst events to webhookEndpoints endpoints.
func (b *bench) webhooks(ctx context.Context) ([]row, error) {
	latencies, err := b.webhookRun(ctx, 1, b.cfg.webhookRate*b.cfg.webhookSeconds, time.Second/time.Duration(b.cfg.webhookRate))
	if err != nil {
		return nil, err
	}
	lat := slices.Collect(maps.Values(latencies.perEvent))
	burst, err := b.webhookRun(ctx, b.cfg.webhookEndpoints, b.cfg.webhookBurst, 0)
	if err != nil {
		return nil, err
	}
	n := b.cfg.webhookEndpoints * b.cfg.webhookBurst
	return []row{
		{fmt.Sprintf("webhook delivery, commit → receiver, at %d events/s to one endpoint (p50, p99)", b.cfg.webhookRate),
			fmt.Sprintf("%s, %s", percentile(lat, 0.5).Round(100*time.Microsecond), percentile(lat, 0.99).Round(100*time.Microsecond)), "—",
			fmt.Sprintf("%d events; dispatcher and sender as serve wires them, Postgres, a loopback receiver", len(lat))},
		{fmt.Sprintf("webhook deliveries per second to %d endpoints", b.cfg.webhookEndpoints),
			fmt.Sprintf("%.0f/s", float64(n)/burst.took.Seconds()), "—",
			fmt.Sprintf("%d events × %d endpoints, from the first commit to the last arrival; one attempt per endpoint at a time, %d at once", b.cfg.webhookBurst, b.cfg.webhookEndpoints, webhooks.DefaultMaxConcurrent)},
	}, nil
}

// webhookResult is one run's measures.
type webhookResult struct {
	perEvent map[string]time.Duration // commit → arrival, by event id (one endpoint)
	took     time.Duration            // first commit → last arrival
}

// webhookRun appends events events (one every gap) to a tenant with
// endpoints endpoints and waits until each has reached each endpoint.
func (b *bench) webhookRun(ctx context.Context, endpoints, events int, gap time.Duration) (webhookResult, error) {
	env, err := b.newProdEnv(ctx, "webhooks", nil)
	if err != nil {
		return webhookResult{}, err
	}
	defer env.close()
	sink := &hookSink{seen: map[string]time.Time{}, all: make(chan struct{}), want: endpoints * events}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	hooks, err := wiring.Webhooks(env.store, webhookEnv, nil, nil)
	if err != nil {
		return webhookResult{}, err
	}
	dispatcher, sender, err := wiring.WebhookDelivery(env.store, webhookEnv, slog.New(slog.DiscardHandler))
	if err != nil {
		return webhookResult{}, err
	}
	go func() { _ = dispatcher.Run(env.ctx) }()
	go func() { _ = sender.Run(env.ctx) }()
	owner := commands.Principal{TenantID: "bench", UserID: "bench", Role: domain.RoleOwner}
	for i := range endpoints {
		if _, err := hooks.Create.Handle(ctx, commands.CreateWebhook{By: owner, Settings: domain.WebhookSettings{
			URL: fmt.Sprintf("%s/hook/%d", srv.URL, i), Events: domain.EventFilter{"tenant.*"}, Enabled: true}}); err != nil {
			return webhookResult{}, err
		}
	}
	w := commands.Writer{Store: env.store}
	to := commands.Target{Stream: eventstore.Stream{ID: "bench-tenant", Type: domain.StreamTenant, TenantID: "bench"}}
	committed := map[string]time.Time{}
	start := time.Now()
	tick := time.NewTicker(max(gap, time.Microsecond))
	defer tick.Stop()
	for i := range events {
		var p domain.Payload = &domain.TenantMemberAdded{Role: domain.RoleMember, UserID: fmt.Sprint("user-", i)}
		if i == 0 {
			p = &domain.TenantCreated{Name: "bench", OwnerID: "bench"}
		}
		stored, err := w.Append(ctx, to, int64(i), p)
		if err != nil {
			return webhookResult{}, err
		}
		committed[stored[0].EventID.String()] = time.Now()
		if gap > 0 {
			<-tick.C
		}
	}
	select {
	case <-sink.all:
	case <-time.After(2 * time.Minute):
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return webhookResult{}, fmt.Errorf("webhooks: %d of %d deliveries arrived in 2 min", len(sink.seen), sink.want)
	case <-ctx.Done():
		return webhookResult{}, ctx.Err()
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	res := webhookResult{perEvent: map[string]time.Duration{}}
	var last time.Time
	for key, at := range sink.seen {
		if at.After(last) {
			last = at
		}
		if endpoints == 1 {
			id := key[len("/hook/0 "):]
			res.perEvent[id] = at.Sub(committed[id])
		}
	}
	res.took = last.Sub(start)
	return res, nil
}
