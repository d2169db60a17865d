package stripebilling_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/teststripe"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/usage"
)

// recorder is a proxy in front of stripe-mock that keeps the meter events'
// forms.
type recorder struct {
	mu     sync.Mutex
	events []url.Values
}

func (rec *recorder) proxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/billing/meter_events" {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			rec.mu.Lock()
			rec.events = append(rec.events, form)
			rec.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (rec *recorder) take() []url.Values {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.events
	rec.events = nil
	return out
}

// cursor is a Cursor in memory.
type cursor struct{ next int64 }

func (c *cursor) Load(context.Context) (int64, error)      { return c.next, nil }
func (c *cursor) Save(_ context.Context, next int64) error { c.next = next; return nil }

// TestMeterReporter reports a closed day's usage of the tenant with a
// Stripe customer, once, with identifiers that a retry repeats; the
// tenant without one is not reported, and an open day waits.
func TestMeterReporter(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		rec := &recorder{}
		svc, err := stripebilling.New(stripebilling.Config{
			SecretKey: "sk_test_123", WebhookSecret: secret, APIURL: rec.proxy(t, teststripe.URL(t)),
			PriceIDs: map[domain.PlanName]string{domain.PlanPro: "price_pro"}, FallbackPlan: domain.PlanTrial, Store: s,
			SuccessURL: "https://a.example/ok", CancelURL: "https://a.example/no", ReturnURL: "https://a.example/",
		})
		if err != nil {
			t.Fatal(err)
		}
		paying, free := newTenant(t, s), newTenant(t, s)
		if _, err := commands.NewSetBillingCustomerHandler(s, nil).Handle(t.Context(), commands.SetBillingCustomer{TenantID: paying, CustomerID: "cus_paying"}); err != nil {
			t.Fatal(err)
		}
		at := d.Add(10 * time.Hour)
		m, err := usage.NewMeter(usage.Config{Store: s, NowFunc: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		for _, tenant := range []string{paying, free} {
			m.Tenant(tenant).StreamOpened()
			m.Tenant(tenant).BytesSent(4096)
		}
		if err := m.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		if err := s.WaitFeed(ctx, 4); err != nil { // 2 tenants, a customer, 2 usage events
			t.Fatal(err)
		}
		runner, err := projections.NewRunner(s, s.UsageCounters(), projections.RunnerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := runner.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}

		now := d.Add(24*time.Hour + stripebilling.DefaultReportLag - time.Minute) // the day is closed, its lag not over
		cur := &cursor{next: d.Unix() / 86400}
		r, err := svc.NewReporter(stripebilling.ReporterConfig{Usage: s, Cursor: cur, NowFunc: func() time.Time { return now },
			Meters: stripebilling.MeterNames{TaskMinutes: "axontask_task_minutes", Streams: "axontask_streams", BytesStreamed: "axontask_bytes"}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := r.ReportDue(t.Context()); n != 0 || err != nil || len(rec.take()) != 0 {
			t.Fatalf("before the lag: %d days, %v", n, err)
		}
		now = now.Add(2 * time.Minute)
		sent := func() []url.Values {
			t.Helper()
			if n, err := r.ReportDue(t.Context()); n != 1 || err != nil {
				t.Fatalf("report: %d days, %v", n, err)
			}
			return rec.take()
		}
		first := sent()
		want := map[string]string{
			stripebilling.MeterEventID(paying, d, "streams_opened"): "1",
			stripebilling.MeterEventID(paying, d, "bytes_streamed"): "4096",
		}
		if len(first) != len(want) {
			t.Fatalf("%d meter events, want %d: %v", len(first), len(want), first)
		}
		for _, e := range first {
			if want[e.Get("identifier")] != e.Get("payload[value]") || e.Get("payload[stripe_customer_id]") != "cus_paying" ||
				e.Get("timestamp") != strconv.FormatInt(d.Add(24*time.Hour-time.Second).Unix(), 10) {
				t.Errorf("meter event %v", e)
			}
		}
		if cur.next != d.Unix()/86400+1 {
			t.Fatalf("cursor at %d after the day", cur.next)
		}
		if n, _ := r.ReportDue(t.Context()); n != 0 || len(rec.take()) != 0 {
			t.Fatal("a reported day was reported again")
		}
		// A crash before the cursor moved: the day again, with the same identifiers.
		cur.next--
		for i, e := range sent() {
			if e.Get("identifier") != first[i].Get("identifier") || e.Get("payload[value]") != first[i].Get("payload[value]") {
				t.Errorf("the retry sent %v, the first time %v", e, first[i])
			}
		}
	})
}
