package commands_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
