package webhooks_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/webhooks"
)

// owner is the principal that manages the test tenant's endpoints.
var owner = commands.Principal{TenantID: "tenant-1", UserID: "ada", Role: domain.RoleOwner}

// pipeline is the delivery side on a store: endpoints managed through the
// commands, a dispatcher and a sender running until the test ends.
type pipeline struct {
	store teststores.Store
	hooks commands.WebhookHandlers
	guard *webhooks.Guard
	// stop ends the dispatcher and the sender (a process that dies).
	stop func()
}

// newPipeline starts a dispatcher and a sender on s with cfg (Store and
// Guard set here); loopback receivers are allowed.
func newPipeline(t *testing.T, s teststores.Store, cfg webhooks.SenderConfig) *pipeline {
	t.Helper()
	return newResolvingPipeline(t, s, cfg, nil)
}

// newResolvingPipeline is newPipeline whose guard resolves names with
// resolver (nil: the system's).
func newResolvingPipeline(t *testing.T, s teststores.Store, cfg webhooks.SenderConfig, resolver *net.Resolver) *pipeline {
	t.Helper()
	guard, err := webhooks.ParseAllowedHosts("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	guard.UseResolver(resolver)
	hooks, err := commands.NewWebhookHandlers(commands.WebhookConfig{Store: s, Secrets: s, Deliveries: s, NewSecretFunc: webhooks.NewSecret, CheckURLFunc: guard.CheckURL, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{store: s, hooks: hooks, guard: guard}
	p.stop = p.start(t, cfg)
	return p
}

// newSkewedPipeline is newPipeline with one retry after 50 ms, whose
// sender's clock runs ahead of the real one by what the returned skew
// holds (the commands' clock, and so the events' times, stay real).
func newSkewedPipeline(t *testing.T, s teststores.Store) (*pipeline, *atomic.Int64) {
	t.Helper()
	skew := new(atomic.Int64)
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	return newPipeline(t, s, webhooks.SenderConfig{Schedule: []time.Duration{50 * time.Millisecond}, NowFunc: clock}), skew
}

// start runs a dispatcher and a sender until the returned stop is called
// or the test ends; both read the clock cfg.NowFunc.
func (p *pipeline) start(t *testing.T, cfg webhooks.SenderConfig) func() {
	t.Helper()
	cfg.Store, cfg.Guard = p.store, p.guard
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	sender, err := webhooks.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := projections.NewRunner(p.store, webhooks.NewDispatcher(p.store, sender.Nudge, cfg.NowFunc), projections.RunnerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = runner.Run(ctx) }()
	go func() { defer wg.Done(); _ = sender.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// endpoint registers an endpoint of url taking events and returns its id
// and secret.
func (p *pipeline) endpoint(t *testing.T, url string, events ...string) (id, secret string) {
	t.Helper()
	res, err := p.hooks.Create.Handle(t.Context(), commands.CreateWebhook{By: owner, Settings: domain.WebhookSettings{URL: url, Events: events, Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Info.ID, webhooks.FormatSecret(res.Secret.Key)
}

// appendEvents appends n tenant events (tenant.member_added) to the test
// tenant's stream and returns their event ids in order.
func (p *pipeline) appendEvents(t *testing.T, n int) []string {
	t.Helper()
	w := commands.Writer{Store: p.store}
	to := commands.Target{Stream: eventstore.Stream{ID: "tenant-stream", Type: domain.StreamTenant, TenantID: owner.TenantID}}
	var ids []string
	for range n {
		page, err := p.store.ReadStream(t.Context(), "tenant-stream", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var payload domain.Payload = &domain.TenantMemberAdded{Role: domain.RoleMember, UserID: fmt.Sprint("user-", len(page))}
		if len(page) == 0 {
			payload = &domain.TenantCreated{Name: "acme", OwnerID: "ada"}
		}
		stored, err := w.Append(t.Context(), to, int64(len(page)), payload)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, stored[0].EventID.String())
	}
	return ids
}

// received is one request a Go receiver got.
type received struct {
	at      time.Time
	id      string
	eventID string
}

// goReceiver answers each request with the status answer(n) gives for the
// n-th request (0, 1, …), or hangs until the client gives up when it is 0.
// Its answers' bodies are three times what the delivery log keeps.
type goReceiver struct {
	url string
	mu  sync.Mutex
	got []received
}

func startGoReceiver(t *testing.T, answer func(n int) int) *goReceiver {
	t.Helper()
	r := &goReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(body, &env)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{at: time.Now(), id: req.Header.Get(webhooks.HeaderID), eventID: env.EventID})
		r.mu.Unlock()
		status := answer(n)
		if status == 0 {
			<-req.Context().Done()
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Repeat("r", 3*eventstore.MaxWebhookResponseExcerpt))
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hook"
	return r
}

func (r *goReceiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// Every delivery verifies with the standardwebhooks npm library, before
// and during a secret rotation, on both engines: a receiver holding the old
// secret and one holding the new accept the deliveries made in the
// overlap; each event arrives once, in feed order.
func TestDeliveriesVerifyWithStandardWebhooks(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		p := newPipeline(t, s, webhooks.SenderConfig{})
		// The receiver's URL must be known to create the endpoint, and
		// the secret to start the receiver: one receiver per secret set.
		probe := startNodeReceiver(t)
		id, oldSecret := p.endpoint(t, probe.URL, "tenant.*")
		verifier := startNodeReceiver(t, oldSecret)
		if _, err := p.hooks.Change.Handle(t.Context(), commands.ChangeWebhook{By: owner, WebhookID: id, URL: &verifier.URL}); err != nil {
			t.Fatal(err)
		}
		before := p.appendEvents(t, 3)
		for i, want := range before {
			v := verifier.next(t)
			if v.EventID != want || !v.Verified[0] {
				t.Fatalf("delivery %d: event %s verified %v (%s); want event %s verified", i, v.EventID, v.Verified, v.Error, want)
			}
		}
		rotated, err := p.hooks.RotateSecret.Handle(t.Context(), commands.RotateWebhookSecret{By: owner, WebhookID: id})
		if err != nil {
			t.Fatal(err)
		}
		both := startNodeReceiver(t, oldSecret, webhooks.FormatSecret(rotated.Secret.Key))
		if _, err := p.hooks.Change.Handle(t.Context(), commands.ChangeWebhook{By: owner, WebhookID: id, URL: &both.URL}); err != nil {
			t.Fatal(err)
		}
		after := p.appendEvents(t, 3)
		for i, want := range after {
			v := both.next(t)
			if v.EventID != want || !v.Verified[0] || !v.Verified[1] {
				t.Fatalf("delivery %d during the rotation: event %s verified by [old new] %v (%s); want both", i, v.EventID, v.Verified, v.Error)
			}
		}
	})
}

// A receiver that fails, then hangs past the timeout, then answers 2xx
// gets each event at the times the schedule says (within its jitter), the
// next event only after the first succeeded, and every event once it
// answers 2xx; a 410 Gone then disables the endpoint, and nothing more is
// sent to it. The delivery log keeps every attempt.
func TestDeliveryRetriesOnSchedule(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		schedule := []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond}
		p := newPipeline(t, s, webhooks.SenderConfig{Schedule: schedule, Timeout: 500 * time.Millisecond})
		answers := []int{500, 0, 503} // then 204 until the 410 below
		var gone sync.Once
		var goneAt int
		r := startGoReceiver(t, func(n int) int {
			if n < len(answers) {
				return answers[n]
			}
			if n >= 6 {
				gone.Do(func() { goneAt = n })
				return http.StatusGone
			}
			return http.StatusNoContent
		})
		id, _ := p.endpoint(t, r.url, "tenant.*")
		events := p.appendEvents(t, 3)
		testwait.For(t, "6 requests", func() bool { return len(r.requests()) >= 6 })
		got := r.requests()
		for i := 1; i < 4; i++ {
			if got[i].eventID != events[0] {
				t.Fatalf("request %d carried %s, want the first event until it succeeds", i, got[i].eventID)
			}
			gap, want := got[i].at.Sub(got[i-1].at), schedule[i-1]
			if i == 2 { // the attempt before hung for the timeout
				want += 500 * time.Millisecond
			}
			if gap < want*8/10-50*time.Millisecond || gap > want*12/10+400*time.Millisecond {
				t.Errorf("retry %d came %s after the attempt before; the schedule says %s ±20%%", i, gap, want)
			}
		}
		if got[4].eventID != events[1] || got[5].eventID != events[2] || got[0].id != got[3].id {
			t.Errorf("after the retries: events %s, %s (want %s, %s); webhook-id %s then %s (want one id per event)", got[4].eventID, got[5].eventID, events[1], events[2], got[0].id, got[3].id)
		}
		// The 410: the endpoint is disabled with its reason, as an event.
		p.appendEvents(t, 2)
		testwait.For(t, "the endpoint disabled", func() bool {
			info, err := p.hooks.Get.Handle(t.Context(), commands.GetWebhook{By: owner, WebhookID: id})
			return err == nil && !info.Settings.Enabled && info.DisabledReason != ""
		})
		time.Sleep(300 * time.Millisecond)
		if n := len(r.requests()); n != goneAt+1 {
			t.Errorf("%d requests after the 410 answer, want none", n-goneAt-1)
		}
		log, err := s.WebhookDeliveryList(t.Context(), id, 1<<62, 10)
		if err != nil {
			t.Fatal(err)
		}
		first := log[len(log)-1]
		attempts, err := s.WebhookAttemptList(t.Context(), []string{first.ID})
		if err != nil || first.State != eventstore.DeliverySucceeded || len(attempts[first.ID]) != 4 {
			t.Fatalf("the first delivery: %+v with %d attempts (%v); want succeeded after 4", first, len(attempts[first.ID]), err)
		}
		if a := attempts[first.ID]; a[0].StatusCode != 500 || a[1].StatusCode != 0 || a[1].Error == "" || a[3].StatusCode != 204 || a[3].Error != "" {
			t.Errorf("the attempts %+v", a)
		}
	})
}

// An endpoint that has failed every delivery for five days since its last
// success is disabled at its next failed attempt, and the tenant is
// told: a webhook.disabled event by the system with the reason, in the
// endpoint's stream and delivered to the tenant's webhook.* endpoints,
// and disabled_reason through the API; nothing more is sent to it. A
// delivery that fails for good sooner leaves it enabled. The sender's
// clock jumps the five days.
func TestEndpointFailingForDaysIsDisabled(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, store teststores.Store) {
		s := &recordWatch{Store: store}
		p, skew := newSkewedPipeline(t, s)
		failing := startGoReceiver(t, func(n int) int {
			if n == 0 {
				return http.StatusNoContent
			}
			return http.StatusInternalServerError
		})
		watcher := startGoReceiver(t, func(int) int { return http.StatusNoContent })
		id, _ := p.endpoint(t, failing.url, "tenant.*")
		s.watch(eventstore.Stream{ID: id, Type: domain.StreamWebhook, TenantID: owner.TenantID})
		// The watcher also takes what the failing endpoint would: once it has
		// an event, the disabled endpoint has been passed over for it.
		p.endpoint(t, watcher.url, "webhook.*", "tenant.*")
		settled := func(n int) {
			t.Helper()
			testwait.For(t, fmt.Sprint(n, " deliveries ended"), func() bool {
				log, err := s.WebhookDeliveryList(t.Context(), id, 1<<62, 10)
				return err == nil && len(log) == n && log[0].State != eventstore.DeliveryPending
			})
		}
		endpoint := func() commands.WebhookInfo {
			t.Helper()
			info, err := p.hooks.Get.Handle(t.Context(), commands.GetWebhook{By: owner, WebhookID: id})
			if err != nil {
				t.Fatal(err)
			}
			return info
		}

		p.appendEvents(t, 2) // the first succeeds, the second fails for good
		settled(2)
		if info := endpoint(); !info.Settings.Enabled {
			t.Fatalf("disabled (%q) by a delivery that failed for good moments after a success", info.DisabledReason)
		}

		skew.Store(int64(webhooks.DefaultDisableAfter))
		p.appendEvents(t, 1)
		settled(3)
		if info := endpoint(); info.Settings.Enabled || info.DisabledReason != "every delivery failed for 5 days" {
			t.Fatalf("after five days of failures: enabled %v, disabled_reason %q; want disabled, saying why", info.Settings.Enabled, info.DisabledReason)
		}
		if seen := s.failedRecords(); len(seen) == 0 || seen[len(seen)-1] != domain.WebhookDisabledType {
			t.Errorf("the failed attempts were recorded with %v last in the endpoint's stream; want the last, which disabled it, recorded after webhook.disabled, so that the endpoint's next delivery finds it disabled", seen)
		}
		stream, err := s.ReadStream(t.Context(), id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := stream[len(stream)-1]
		if last.Type != domain.WebhookDisabledType || last.Metadata.Actor != "system" || !strings.Contains(string(last.Payload), "5 days") {
			t.Fatalf("the endpoint's last event: %s by %q, %s; want webhook.disabled by the system with the reason", last.Type, last.Metadata.Actor, last.Payload)
		}
		testwait.For(t, "the tenant's webhook.* endpoint told", func() bool {
			return slices.ContainsFunc(watcher.requests(), func(r received) bool { return r.eventID == last.EventID.String() })
		})

		sent := len(failing.requests())
		next := p.appendEvents(t, 1)[0]
		testwait.For(t, "the watcher given the event after the disable", func() bool {
			return slices.ContainsFunc(watcher.requests(), func(r received) bool { return r.eventID == next })
		})
		if n := len(failing.requests()); n != sent {
			t.Errorf("%d requests to the disabled endpoint", n-sent)
		}
	})
}

// An endpoint enabled again starts its five days afresh, at its first
// failure after that: failures from before it was disabled do not count,
// though the store's run of failures began with them, and neither do the
// idle days since it was enabled. The sender's clock puts that run a day
// back, and the next failures six days on.
func TestEnabledAgainStartsItsFiveDaysAfresh(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		p, skew := newSkewedPipeline(t, s)
		r := startGoReceiver(t, func(int) int { return http.StatusInternalServerError })
		id, _ := p.endpoint(t, r.url, "tenant.*")
		failedTwice := func(n int) {
			t.Helper()
			testwait.For(t, fmt.Sprint(n, " requests"), func() bool { return len(r.requests()) >= n })
			testwait.For(t, "the delivery ended", func() bool {
				log, err := s.WebhookDeliveryList(t.Context(), id, 1<<62, 1)
				return err == nil && len(log) == 1 && log[0].State == eventstore.DeliveryFailed
			})
		}
		skew.Store(int64(-24 * time.Hour))
		p.appendEvents(t, 1)
		failedTwice(2)
		for _, enabled := range []bool{false, true} {
			if _, err := p.hooks.Change.Handle(t.Context(), commands.ChangeWebhook{By: owner, WebhookID: id, Enabled: &enabled}); err != nil {
				t.Fatal(err)
			}
		}
		skew.Store(int64(6 * 24 * time.Hour))
		p.appendEvents(t, 1)
		failedTwice(4)
		info, err := p.hooks.Get.Handle(t.Context(), commands.GetWebhook{By: owner, WebhookID: id})
		if err != nil || !info.Settings.Enabled {
			t.Fatalf("enabled again 6 days before its first failures since: %+v, %v; want it still enabled", info, err)
		}
	})
}

// A redelivery reaches the receiver again under the same webhook-id, and
// one of an old delivery that fails does not disable an endpoint that
// succeeded since, five days later or not. The log keeps a bounded
// excerpt of each answer.
func TestRedeliveryOfAnOldFailureDisablesNothing(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		p, skew := newSkewedPipeline(t, s)
		// The first delivery fails twice (for good), the second succeeds,
		// the first redelivered fails, then succeeds.
		answers := []int{500, 500, 204, 500, 204}
		r := startGoReceiver(t, func(n int) int { return answers[min(n, len(answers)-1)] })
		id, _ := p.endpoint(t, r.url, "tenant.*")
		ended := func(deliveryID string, attempts int) commands.DeliveryInfo {
			t.Helper()
			var got commands.DeliveryInfo
			testwait.For(t, fmt.Sprint(deliveryID, " ended after ", attempts, " attempts"), func() bool {
				log, err := p.hooks.Deliveries.Handle(t.Context(), commands.ListWebhookDeliveries{By: owner, WebhookID: id})
				if err != nil {
					return false
				}
				i := slices.IndexFunc(log, func(d commands.DeliveryInfo) bool { return d.ID == deliveryID })
				if i < 0 || log[i].State == eventstore.DeliveryPending || len(log[i].Attempts) != attempts {
					return false
				}
				got = log[i]
				return true
			})
			return got
		}
		first := webhooks.DeliveryID(id, uuid.MustParse(p.appendEvents(t, 1)[0]))
		if d := ended(first, 2); d.State != eventstore.DeliveryFailed {
			t.Fatalf("the first delivery: %s, want failed", d.State)
		}
		second := webhooks.DeliveryID(id, uuid.MustParse(p.appendEvents(t, 1)[0]))
		ended(second, 1)

		skew.Store(int64(webhooks.DefaultDisableAfter))
		redeliver := func() {
			t.Helper()
			if n, err := p.hooks.Redeliver.Handle(t.Context(), commands.RedeliverWebhook{By: owner, WebhookID: id, DeliveryID: first}); err != nil || n != 1 {
				t.Fatalf("redeliver: %d, %v", n, err)
			}
		}
		redeliver()
		d := ended(first, 3)
		if d.State != eventstore.DeliveryFailed {
			t.Fatalf("the redelivery that used up its schedule: %s, want failed after its one attempt", d.State)
		}
		info, err := p.hooks.Get.Handle(t.Context(), commands.GetWebhook{By: owner, WebhookID: id})
		if err != nil || !info.Settings.Enabled {
			t.Fatalf("the endpoint after an old delivery's redelivery failed: %+v, %v; want enabled (it succeeded since)", info, err)
		}
		redeliver()
		if d := ended(first, 4); d.State != eventstore.DeliverySucceeded {
			t.Fatalf("the second redelivery: %s, want succeeded", d.State)
		}
		got := r.requests()
		if len(got) != 5 || got[3].id != first || got[4].id != first {
			t.Fatalf("the receiver's requests %+v; want the two redeliveries under %s", got, first)
		}
		for _, a := range d.Attempts {
			if len(a.Response) != eventstore.MaxWebhookResponseExcerpt {
				t.Errorf("attempt %d kept %d bytes of the answer, want the first %d", a.Attempt, len(a.Response), eventstore.MaxWebhookResponseExcerpt)
			}
		}
	})
}

// recordWatch is a store that notes, at each failed attempt's record,
// the type of the last event in the stream of the endpoint it watches,
// when the attempt reached the receiver.
type recordWatch struct {
	teststores.Store
	mu       sync.Mutex
	endpoint eventstore.Stream
	seen     []domain.EventType
}

// watch makes w watch the endpoint of stream.
func (w *recordWatch) watch(stream eventstore.Stream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.endpoint = stream
}

// failedRecords returns what w noted, in order.
func (w *recordWatch) failedRecords() []domain.EventType {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

func (w *recordWatch) WebhookDeliveryRecord(ctx context.Context, a eventstore.WebhookAttempt, state eventstore.DeliveryState, next, enabledAt time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a.Error != "" && a.StatusCode != 0 && w.endpoint.ID != "" {
		var endpoint domain.Webhook
		if err := commands.Load(ctx, w.Store, w.endpoint, &endpoint); err != nil {
			return err
		}
		events, err := w.ReadStream(ctx, w.endpoint.ID, endpoint.Seq()-1, 1)
		if err != nil {
			return err
		}
		if len(events) != 1 {
			return fmt.Errorf("the endpoint's last event (seq %d) is not there", endpoint.Seq())
		}
		w.seen = append(w.seen, events[0].Type)
	}
	return w.Store.WebhookDeliveryRecord(ctx, a, state, next, enabledAt)
}

// A receiver that hangs delays no other endpoint's deliveries.
func TestDeadEndpointDelaysNoOther(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		p := newPipeline(t, s, webhooks.SenderConfig{Timeout: 5 * time.Second, MaxConcurrent: 4})
		dead := startGoReceiver(t, func(int) int { return 0 })
		live := startGoReceiver(t, func(int) int { return http.StatusOK })
		p.endpoint(t, dead.url, "tenant.*")
		p.endpoint(t, live.url, "tenant.*")
		start := time.Now()
		events := p.appendEvents(t, 5)
		testwait.For(t, "the live receiver's 5 events", func() bool { return len(live.requests()) >= 5 })
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("the live receiver got its events after %s, with the dead one hanging for 5 s", took)
		}
		for i, r := range live.requests() {
			if r.eventID != events[i] {
				t.Errorf("live receiver's request %d carried %s, want %s", i, r.eventID, events[i])
			}
		}
	})
}

// A sender has at most MaxConcurrent attempts out at once over all its
// endpoints: six endpoints that hang, four slots; the last two are sent
// when the first ones time out.
func TestAttemptsInFlightAreBounded(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		p := newPipeline(t, s, webhooks.SenderConfig{Timeout: time.Second, MaxConcurrent: 4})
		var mu sync.Mutex
		inFlight, most, paths := 0, 0, map[string]bool{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			// Read whole, so that the server notices when the sender gives up.
			_, _ = io.Copy(io.Discard, req.Body)
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			paths[req.URL.Path] = true
			mu.Unlock()
			<-req.Context().Done()
			mu.Lock()
			inFlight--
			mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		for i := range 6 {
			p.endpoint(t, fmt.Sprintf("%s/hook/%d", srv.URL, i), "tenant.*")
		}
		p.appendEvents(t, 1)
		testwait.For(t, "every endpoint attempted", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(paths) == 6
		})
		mu.Lock()
		defer mu.Unlock()
		if most != 4 {
			t.Errorf("at most %d attempts were in flight at once, want 4 (MaxConcurrent)", most)
		}
	})
}

// A process that dies mid-way (its dispatcher and sender stopped at once)
// loses nothing: another picks up from the checkpoint and the claims, and
// the receiver sees every event, in order, under one webhook-id each.
func TestDeliveriesSurviveARestart(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		cfg := webhooks.SenderConfig{Timeout: 2 * time.Second, Schedule: []time.Duration{100 * time.Millisecond}}
		p := newPipeline(t, s, cfg)
		r := startGoReceiver(t, func(int) int { return http.StatusNoContent })
		p.endpoint(t, r.url, "tenant.*")
		events := p.appendEvents(t, 10)
		testwait.For(t, "a first delivery", func() bool { return len(r.requests()) >= 1 })
		p.stop()
		more := p.appendEvents(t, 10)
		p.start(t, cfg)
		all := append(events, more...)
		testwait.For(t, "every event", func() bool { return len(uniqueEvents(r.requests())) >= len(all) })
		got := uniqueEvents(r.requests())
		for i := range all {
			if got[i] != all[i] {
				t.Fatalf("event %d delivered was %s, want %s (feed order)", i, got[i], all[i])
			}
		}
	})
}

// uniqueEvents returns the event ids of rs in order of first arrival.
func uniqueEvents(rs []received) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if !seen[r.eventID] {
			seen[r.eventID] = true
			out = append(out, r.eventID)
		}
	}
	return out
}

// A test event goes to its own endpoint alone, whatever the filters, and
// shows in the delivery log under the id the call returned.
func TestTestEventReachesItsEndpointOnly(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		p := newPipeline(t, s, webhooks.SenderConfig{})
		mine := startGoReceiver(t, func(int) int { return http.StatusOK })
		other := startGoReceiver(t, func(int) int { return http.StatusOK })
		id, _ := p.endpoint(t, mine.url, "task.*")
		p.endpoint(t, other.url, "*")
		eventID, err := p.hooks.SendTest.Handle(t.Context(), commands.SendTestEvent{By: owner, WebhookID: id})
		if err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the test delivery", func() bool { return len(mine.requests()) == 1 })
		if r := mine.requests()[0]; r.eventID != eventID.String() || r.id != webhooks.DeliveryID(id, eventID) {
			t.Errorf("the test delivery carried %s under %s", r.eventID, r.id)
		}
		var log []commands.DeliveryInfo
		testwait.For(t, "the delivery logged", func() bool {
			log, err = p.hooks.Deliveries.Handle(t.Context(), commands.ListWebhookDeliveries{By: owner, WebhookID: id})
			return err == nil && len(log) == 1 && log[0].State == eventstore.DeliverySucceeded
		})
		if a := log[0].Attempts; len(a) != 1 || a[0].StatusCode != http.StatusOK {
			t.Errorf("attempts %+v", a)
		}
		time.Sleep(100 * time.Millisecond)
		for _, r := range other.requests() {
			if r.eventID == eventID.String() {
				t.Errorf("another endpoint got the test event")
			}
		}
	})
}

// The SSRF guard in the pipeline: names that resolve to loopback, to a
// private address, to the cloud metadata address or to IPv6 loopback; a
// name that resolves to a public address at first and to loopback at the
// next connection (DNS rebinding); and a redirect (even from an allowed
// host) are all refused, each attempt with the reason in the delivery
// log; the loopback receiver behind them sees nothing.
func TestRefusedDeliveriesSayWhyInTheLog(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		names := map[string]netip.Addr{
			"loopback.example.": netip.MustParseAddr("127.0.0.1"), "private.example.": netip.MustParseAddr("10.1.2.3"),
			"metadata.example.": netip.MustParseAddr("169.254.169.254"), "loopback6.example.": netip.MustParseAddr("::1"),
		}
		var rebindLookups atomic.Int64
		dns := startDNS(t, func(q dnsmessage.Question) netip.Addr {
			if q.Name.String() != "rebind.example." {
				return names[q.Name.String()]
			}
			if q.Type == dnsmessage.TypeA && rebindLookups.Add(1) == 1 {
				return netip.MustParseAddr("203.0.113.1") // TEST-NET-3: public in form, routed nowhere
			}
			return netip.MustParseAddr("127.0.0.1")
		})
		// Two attempts each; the rebound name's first waits out the timeout.
		p := newResolvingPipeline(t, s, webhooks.SenderConfig{Schedule: []time.Duration{50 * time.Millisecond}, Timeout: time.Second}, dns)
		target := startGoReceiver(t, func(int) int { return http.StatusOK })
		port := target.url[strings.LastIndex(target.url, ":"):strings.LastIndex(target.url, "/")]
		redirector := httptest.NewServer(http.RedirectHandler(target.url, http.StatusFound))
		t.Cleanup(redirector.Close)
		loopback := "refused to connect to 127.0.0.1: a loopback address"
		// want is what each attempt's error says; "" is any error but a
		// refusal (the rebound name's public address is let through).
		want := map[string][2]string{}
		for url, w := range map[string][2]string{
			"http://loopback.example" + port:  {loopback, loopback},
			"http://private.example" + port:   {"refused to connect to 10.1.2.3: a private address", "refused to connect to 10.1.2.3"},
			"http://metadata.example" + port:  {"refused to connect to 169.254.169.254: a link-local (cloud metadata) address", "refused to connect to 169.254.169.254"},
			"http://loopback6.example" + port: {"refused to connect to ::1: a loopback address", "refused to connect to ::1"},
			"http://rebind.example" + port:    {"", loopback},
			redirector.URL:                    {"redirect", "redirect"},
		} {
			id, _ := p.endpoint(t, url+"/hook", "tenant.*")
			want[id] = w
		}
		p.appendEvents(t, 1)
		for id, w := range want {
			var log []commands.DeliveryInfo
			testwait.For(t, "the delivery failed", func() bool {
				var err error
				log, err = p.hooks.Deliveries.Handle(t.Context(), commands.ListWebhookDeliveries{By: owner, WebhookID: id})
				return err == nil && len(log) == 1 && log[0].State == eventstore.DeliveryFailed
			})
			if len(log[0].Attempts) != len(w) {
				t.Fatalf("endpoint %s: %d attempts, want %d", id, len(log[0].Attempts), len(w))
			}
			for i, a := range log[0].Attempts {
				if a.Error == "" || (w[i] == "" && strings.Contains(a.Error, "refused to connect to")) || !strings.Contains(a.Error, w[i]) {
					t.Errorf("endpoint %s: attempt %d's error %q does not say %q", id, a.Attempt, a.Error, cmp.Or(w[i], "a failure other than a refusal"))
				}
			}
		}
		if n := len(target.requests()); n != 0 {
			t.Errorf("the loopback receiver got %d requests", n)
		}
	})
}
