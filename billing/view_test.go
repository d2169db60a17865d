package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/billing"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/plans"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/usage"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// appender appends events at given times to a store and counts them.
type appender struct {
	t      *testing.T
	store  teststores.Store
	events int64
}

func (a *appender) append(stream eventstore.Stream, after int64, at time.Time, payloads ...domain.Payload) {
	a.t.Helper()
	evs := make([]domain.NewEvent, len(payloads))
	for i, p := range payloads {
		b, err := domain.MarshalPayload(p)
		if err != nil {
			a.t.Fatal(err)
		}
		evs[i] = domain.NewEvent{EventID: uuid.New(), Type: p.EventType(), Payload: b, OccurredAt: at}
	}
	if _, err := a.store.Append(a.t.Context(), stream, after, evs); err != nil {
		a.t.Fatal(err)
	}
	a.events += int64(len(evs))
}

// task appends a task of tenant that runs d from at.
func (a *appender) task(tenant string, at time.Time, d time.Duration) {
	a.t.Helper()
	s := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: tenant}
	a.append(s, 0, at, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "work", TimeoutS: 86400},
		&domain.TaskQueued{Attempt: 1}, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"})
	a.append(s, 3, at.Add(d), &domain.TaskSucceeded{})
}

// TestWorkedMonth is the worked month of docs/billing.md: a tenant
// created on 28 October 2026 on the trial, put on the entry plan on 3
// November, uses 4,210 task-minutes, 12,500 streams and 15.5 GiB streamed
// in November. Its November bill is $14.21; its October view shows the
// trial, free, ending on 4 November.
func TestWorkedMonth(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 10, 28, 9, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		a := &appender{t: t, store: s}
		tenant := uuid.NewString()
		ts := eventstore.Stream{ID: tenant, Type: domain.StreamTenant, TenantID: tenant}
		a.append(ts, 0, created, &domain.TenantCreated{Name: "Acme", OwnerID: uuid.NewString()})
		a.append(ts, 1, nov.AddDate(0, 0, 2), &domain.TenantPlanChanged{Plan: domain.PlanEntry})
		a.task(tenant, created.Add(time.Hour), 90*time.Minute) // October
		a.task(tenant, nov.Add(24*time.Hour), 2000*time.Minute)
		a.task(tenant, nov.Add(5*24*time.Hour), 2000*time.Minute)
		a.task(tenant, nov.Add(20*24*time.Hour), 209*time.Minute+30*time.Second) // 4,209.5 minutes: 4,210 task-minutes
		a.task(tenant, nov.AddDate(0, 1, 0), time.Minute)                        // December
		now := nov.Add(25 * 24 * time.Hour)
		m, err := usage.NewMeter(usage.Config{Store: s, NowFunc: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		c := m.Tenant(tenant)
		for range 12_500 {
			c.StreamOpened()
		}
		c.BytesSent(15<<30 + 512<<20)
		if err := m.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		a.events++
		catchUp(t, s, a.events)

		views, err := billing.NewViews(billing.Config{Store: s, Catalog: plans.Default()})
		if err != nil {
			t.Fatal(err)
		}
		v, err := views.Month(t.Context(), tenant, nov.Add(40*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []billing.Line{
			{Meter: billing.MeterPlan, Quantity: 1, Billable: 1, UnitAmount: 999, Unit: 1, Amount: 999},
			{Meter: billing.MeterTaskMinutes, Quantity: 4_210, Included: 3_000, Billable: 1_210, UnitAmount: 200, Unit: 1_000, Amount: 242},
			{Meter: billing.MeterStreams, Quantity: 12_500, Included: 10_000, Billable: 2_500, UnitAmount: 50, Unit: 1_000, Amount: 125},
			{Meter: billing.MeterBytesStreamed, Quantity: 15<<30 + 512<<20, Included: 10 << 30, Billable: 5<<30 + 512<<20, UnitAmount: 10, Unit: 1 << 30, Amount: 55},
		}
		if v.Plan != domain.PlanEntry || !v.TrialEndsAt.IsZero() || v.Estimate.Currency != "usd" || v.Estimate.Amount != 1_421 ||
			!v.First.Equal(nov) || !v.Last.Equal(nov.AddDate(0, 1, -1)) || v.Usage.TasksStarted != 3 {
			t.Fatalf("November: %+v", v)
		}
		for i := range want {
			if v.Estimate.Lines[i] != want[i] {
				t.Errorf("line %d: %+v, want %+v", i, v.Estimate.Lines[i], want[i])
			}
		}
		t.Logf("November 2026 on %s: %+v", v.Plan, v.Estimate)

		oct, err := views.Month(t.Context(), tenant, created)
		if err != nil {
			t.Fatal(err)
		}
		if oct.Plan != domain.PlanTrial || !oct.TrialEndsAt.Equal(created.AddDate(0, 0, 7)) || oct.Estimate.Amount != 0 || oct.Usage.TaskMinutes() != 90 {
			t.Errorf("October: %+v", oct)
		}
		if _, err := views.Month(t.Context(), uuid.NewString(), nov); !errors.Is(err, commands.ErrTenantNotFound) {
			t.Errorf("an unknown tenant: %v, want ErrTenantNotFound", err)
		}
	})
}

// catchUp applies the feed up to its first n events to the usage counters.
func catchUp(t *testing.T, s teststores.Store, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := s.WaitFeed(ctx, n-1); err != nil {
		t.Fatal(err)
	}
	r, err := projections.NewRunner(s, s.UsageCounters(), projections.RunnerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPriceOverflowAndFree(t *testing.T) {
	t.Parallel()
	p := plans.Default().Get(domain.PlanEnt)
	e := billing.Price(p, "usd", projections.UsageCounts{BytesStreamed: 1<<63 - 1})
	if l := e.Lines[3]; l.Amount <= 0 || l.Billable <= 0 {
		t.Errorf("a huge byte count: %+v", l)
	}
	free := billing.Price(plans.Default().Get(domain.PlanTrial), "usd", projections.UsageCounts{TaskRunMS: 1 << 40, StreamsOpened: 1 << 30})
	if free.Amount != 0 {
		t.Errorf("the trial costs %d", free.Amount)
	}
}
