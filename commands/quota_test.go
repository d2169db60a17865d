package commands_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/plans"
)

// quotaStart returns a start handler whose tenants are on a trial plan of
// 3 tasks a day and a 600 s timeout.
func quotaStart(t *testing.T, s teststores.Store) *commands.StartTaskHandler {
	t.Helper()
	env := map[string]string{"PLAN_TRIAL_TASKS_PER_DAY": "3", "PLAN_TRIAL_MAX_TIMEOUT_S": "600"}
	catalog, err := plans.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.NewStartTaskHandler(s, commands.StartTaskConfig{NowFunc: func() time.Time { return now }, Quotas: commands.NewQuotas(s, catalog, func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func quotaCmd(tenantID, commandID string, timeoutS int) commands.StartTask {
	return commands.StartTask{TenantID: tenantID, Name: "t", Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":1}`), TimeoutS: timeoutS, CommandID: commandID}
}

func TestDailyQuota(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		h := quotaStart(t, b.store)
		ctx := t.Context()
		// A repeated command and a refused one are not counted.
		for _, cmd := range []commands.StartTask{quotaCmd(tenant, "k1", 60), quotaCmd(tenant, "k1", 60), quotaCmd(tenant, "", 601), quotaCmd(tenant, "", 0)} {
			_, err := h.Handle(ctx, cmd)
			var verr *domain.ValidationError
			if cmd.TimeoutS == 601 {
				if !errors.As(err, &verr) || verr.Field != "timeout_s" || !strings.Contains(verr.Reason, "trial plan") {
					t.Fatalf("timeout past the plan's: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.Handle(ctx, quotaCmd(tenant, "", 0)); err != nil {
			t.Fatalf("third start: %v", err)
		}
		_, err := h.Handle(ctx, quotaCmd(tenant, "", 0))
		var q *commands.QuotaExceededError
		if !errors.As(err, &q) || q.Limit != 3 || q.Used != 3 || !q.ResetsAt.Equal(time.Date(2026, 5, 7, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("fourth start: %v (%+v), want the quota of 3 used, reset at midnight UTC", err, q)
		}
		if _, err := h.Handle(ctx, quotaCmd(otherTenant, "", 0)); err != nil {
			t.Fatalf("another tenant: %v", err)
		}
	})
}

// Concurrent starts of one tenant: exactly the plan's daily cap succeeds.
func TestDailyQuotaUnderConcurrency(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		h := quotaStart(t, b.store)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for range 20 {
			wg.Go(func() {
				_, err := h.Handle(t.Context(), quotaCmd(tenant, "", 0))
				var q *commands.QuotaExceededError
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.As(err, &q):
					refused++
				default:
					t.Errorf("start: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 3 || refused != 17 {
			t.Fatalf("%d started, %d refused; want 3 and 17", ok, refused)
		}
	})
}

func TestSetPlan(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		id := newIdentity(t, b.store, time.Now)
		tok, err := id.Register.Handle(ctx, commands.Register{Email: "ada@example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		plan := func() domain.PlanName {
			p, err := commands.NewQuotas(b.store, plans.Default(), nil).Plan(ctx, tok.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			return p.Name
		}
		if got := plan(); got != domain.PlanTrial {
			t.Fatalf("a new tenant is on %s, want trial", got)
		}
		setPlan := commands.NewSetPlanHandler(b.store, time.Now)
		for range 2 { // the second is a no-op
			if _, err := setPlan.Handle(ctx, commands.SetPlan{TenantID: tok.TenantID, Plan: domain.PlanPro, Meta: domain.Metadata{Actor: "operator"}}); err != nil {
				t.Fatal(err)
			}
		}
		if got := plan(); got != domain.PlanPro {
			t.Fatalf("after set-plan: %s, want pro", got)
		}
		if _, err := setPlan.Handle(ctx, commands.SetPlan{TenantID: "no-such-tenant", Plan: domain.PlanPro}); !errors.Is(err, commands.ErrTenantNotFound) {
			t.Fatalf("unknown tenant: %v", err)
		}
		if _, err := setPlan.Handle(ctx, commands.SetPlan{TenantID: tok.TenantID, Plan: "gold"}); err == nil {
			t.Fatal("an unknown plan was set")
		}
	})
}

// A tenant still on the trial after it ended starts nothing (402's
// error), or as many tasks a day as TRIAL_EXPIRED_TASKS_PER_DAY says; one
// within its trial, or on another plan, starts as its plan allows.
func TestTrialEnd(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		newTenant := func(created time.Time, plan domain.PlanName) string {
			id := uuid.NewString()
			w := commands.Writer{Store: b.store, NowFunc: func() time.Time { return created }}
			payloads := []domain.Payload{&domain.TenantCreated{Name: "t", OwnerID: uuid.NewString()}}
			if plan != "" {
				payloads = append(payloads, &domain.TenantPlanChanged{Plan: plan})
			}
			if _, err := w.Append(ctx, commands.Target{Stream: eventstore.Stream{ID: id, Type: domain.StreamTenant, TenantID: id}}, 0, payloads...); err != nil {
				t.Fatal(err)
			}
			return id
		}
		ended := newTenant(now.AddDate(0, 0, -8), "")
		fresh := newTenant(now.AddDate(0, 0, -6), "")
		paying := newTenant(now.AddDate(0, 0, -30), domain.PlanPro)
		for env, allowed := range map[string]int{"0": 0, "2": 2} {
			catalog, err := plans.FromEnv(func(k string) string { return map[string]string{"TRIAL_EXPIRED_TASKS_PER_DAY": env}[k] })
			if err != nil {
				t.Fatal(err)
			}
			h, err := commands.NewStartTaskHandler(b.store, commands.StartTaskConfig{NowFunc: func() time.Time { return now }, Quotas: commands.NewQuotas(b.store, catalog, func() time.Time { return now })})
			if err != nil {
				t.Fatal(err)
			}
			for range allowed {
				if _, err := h.Handle(ctx, quotaCmd(ended, "", 0)); err != nil {
					t.Fatalf("TRIAL_EXPIRED_TASKS_PER_DAY=%s: %v", env, err)
				}
			}
			_, err = h.Handle(ctx, quotaCmd(ended, "", 0))
			var te *commands.TrialEndedError
			var q *commands.QuotaExceededError
			switch {
			case allowed == 0 && (!errors.As(err, &te) || te.EndedAt.Sub(now.AddDate(0, 0, -1)).Abs() > time.Millisecond):
				t.Fatalf("a start after the trial: %v, want the trial's end a day ago", err)
			case allowed > 0 && (!errors.As(err, &q) || q.Limit != allowed):
				t.Fatalf("a start past TRIAL_EXPIRED_TASKS_PER_DAY=%s: %v", env, err)
			}
			for _, id := range []string{fresh, paying} {
				if _, err := h.Handle(ctx, quotaCmd(id, "", 0)); err != nil {
					t.Fatalf("a tenant within its trial or paying: %v", err)
				}
			}
		}
	})
}

// A tenant whose payment failed starts tasks until its grace period ends,
// then none (402's error) until a payment succeeds or its plan changes.
func TestPaymentPastDue(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		newTenant := func(graceEnds time.Time, then ...domain.Payload) string {
			id := uuid.NewString()
			payloads := append([]domain.Payload{&domain.TenantCreated{Name: "t", OwnerID: uuid.NewString()}, &domain.TenantPlanChanged{Plan: domain.PlanPro},
				&domain.TenantPaymentFailed{InvoiceID: "in_1", GraceEndsAt: domain.FormatTime(graceEnds)}}, then...)
			w := commands.Writer{Store: b.store, NowFunc: func() time.Time { return now.AddDate(0, 0, -30) }}
			if _, err := w.Append(ctx, commands.Target{Stream: eventstore.Stream{ID: id, Type: domain.StreamTenant, TenantID: id}}, 0, payloads...); err != nil {
				t.Fatal(err)
			}
			return id
		}
		overdue := newTenant(now.Add(-time.Hour))
		inGrace := newTenant(now.Add(time.Hour))
		paid := newTenant(now.Add(-time.Hour), &domain.TenantPaymentRecovered{InvoiceID: "in_1"})
		downgraded := newTenant(now.Add(-time.Hour), &domain.TenantPlanChanged{Plan: domain.PlanEntry})
		h, err := commands.NewStartTaskHandler(b.store, commands.StartTaskConfig{NowFunc: func() time.Time { return now },
			Quotas: commands.NewQuotas(b.store, plans.Default(), func() time.Time { return now })})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.Handle(ctx, quotaCmd(overdue, "", 0))
		var pd *commands.PaymentPastDueError
		if !errors.As(err, &pd) || pd.GraceEnded.Sub(now.Add(-time.Hour)).Abs() > time.Millisecond {
			t.Fatalf("a start after the grace period: %v, want it refused as past due", err)
		}
		for name, id := range map[string]string{"in its grace period": inGrace, "paid": paid, "on another plan since": downgraded} {
			if _, err := h.Handle(ctx, quotaCmd(id, "", 0)); err != nil {
				t.Fatalf("a tenant %s: %v", name, err)
			}
		}
	})
}
