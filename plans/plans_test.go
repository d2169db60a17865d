package plans_test

import (
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/plans"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PLAN_PRO_TASKS_PER_DAY": "42", "PLAN_TRIAL_CONCURRENCY": "1", "DEFAULT_PLAN": "entry"}
	c, err := plans.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Get(domain.PlanPro); p.TasksPerDay != 42 || p.Concurrency != 20 {
		t.Fatalf("pro = %+v", p)
	}
	if p := c.Get(""); p.Name != domain.PlanEntry {
		t.Fatalf("default plan = %s, want entry", p.Name)
	}
	if p := plans.Default().Get(""); p.Name != domain.PlanTrial || p.TasksPerDay != 100 {
		t.Fatalf("built-in default = %+v", p)
	}
	if n := len(c.All()); n != 4 {
		t.Fatalf("%d plans", n)
	}
	for k, v := range map[string]string{"PLAN_ENT_MAX_TIMEOUT_S": "0", "PLAN_ENTRY_RETENTION_DAYS": "x", "DEFAULT_PLAN": "gold", "PLAN_PRO_CONCURRENCY": "1e9"} {
		_, err := plans.FromEnv(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v does not name the variable", k, v, err)
		}
	}
}

func TestFromEnvTaskLimits(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PLAN_TRIAL_MEMORY_MB": "1024", "PLAN_TRIAL_PIDS": "64", "PLAN_TRIAL_CPUS": "1.5", "PLAN_TRIAL_OPEN_FILES": "256",
		"PLAN_TRIAL_FILE_SIZE_MB": "10", "PLAN_TRIAL_WORKDIR_MB": "2048", "PLAN_TRIAL_EGRESS": "true",
		"PLAN_TRIAL_OUTPUT_MB": "1", "PLAN_TRIAL_OUTPUT_EVENTS": "500", "PLAN_ENT_CPUS": "0.25", "PLAN_ENT_EGRESS": "false",
	}
	c, err := plans.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := c.Get(domain.PlanTrial)
	want := plans.Plan{Name: domain.PlanTrial, TasksPerDay: 100, Concurrency: 2, MaxTimeoutS: 600, RetentionDays: 1,
		TaskLimits: domain.TaskLimits{MemoryBytes: 1 << 30, Pids: 64, CPUMilli: 1500, OpenFiles: 256, FileSizeBytes: 10 << 20, WorkDirBytes: 2 << 30,
			Egress: true, OutputBytes: 1 << 20, OutputEvents: 500},
		Price: plans.Price{Included: plans.Meters{TaskMinutes: 1_000, Streams: 1_000, GiBStreamed: 1}}}
	if got != want {
		t.Fatalf("trial = %+v\nwant    %+v", got, want)
	}
	if ent := c.Get(domain.PlanEnt); ent.CPUMilli != 250 || ent.Egress {
		t.Fatalf("ent: %d thousandths of a CPU, egress %v; want 250, false", ent.CPUMilli, ent.Egress)
	}
	for k, v := range map[string]string{
		"PLAN_TRIAL_MEMORY_MB": "0", "PLAN_ENTRY_PIDS": "-1", "PLAN_PRO_CPUS": "1.2345", "PLAN_ENT_CPUS": "0",
		"PLAN_TRIAL_CPUS": "1e3", "PLAN_ENTRY_CPUS": ".5", "PLAN_PRO_OPEN_FILES": "many", "PLAN_ENT_FILE_SIZE_MB": "1.5",
		"PLAN_TRIAL_WORKDIR_MB": "99999999999", "PLAN_ENTRY_EGRESS": "yes", "PLAN_PRO_OUTPUT_MB": "100000", "PLAN_ENT_OUTPUT_EVENTS": "0",
	} {
		_, err := plans.FromEnv(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), "set it to") {
			t.Errorf("%s=%s: error %v does not name the variable and what to set it to", k, v, err)
		}
	}
}

// Each plan allows each task at least as much as the plan below it.
func TestDefaultTaskLimitsGrowWithThePlan(t *testing.T) {
	t.Parallel()
	all := plans.Default().All()
	for i := 1; i < len(all); i++ {
		lo, hi := all[i-1], all[i]
		if hi.MemoryBytes < lo.MemoryBytes || hi.Pids < lo.Pids || hi.CPUMilli < lo.CPUMilli || hi.OpenFiles < lo.OpenFiles ||
			hi.FileSizeBytes < lo.FileSizeBytes || hi.WorkDirBytes < lo.WorkDirBytes || (lo.Egress && !hi.Egress) ||
			hi.OutputBytes < lo.OutputBytes || hi.OutputEvents < lo.OutputEvents {
			t.Errorf("%s allows a task less than %s: %+v < %+v", hi.Name, lo.Name, hi, lo)
		}
	}
	if trial := all[0]; trial.Egress || trial.OutputBytes != 32<<20 || trial.OutputEvents != 50_000 {
		t.Errorf("trial = %+v", trial)
	}
}

// TestReceipts: pro and ent get receipts by default, and the environment
// changes any plan's.
func TestReceipts(t *testing.T) {
	t.Parallel()
	want := map[domain.PlanName]bool{domain.PlanTrial: false, domain.PlanEntry: false, domain.PlanPro: true, domain.PlanEnt: true}
	for _, p := range plans.Default().All() {
		if p.Receipts != want[p.Name] {
			t.Errorf("%s: receipts %v by default", p.Name, p.Receipts)
		}
	}
	env := map[string]string{"PLAN_ENTRY_RECEIPTS": "true", "PLAN_PRO_RECEIPTS": "false"}
	c, err := plans.FromEnv(func(k string) string { return env[k] })
	if err != nil || !c.Get(domain.PlanEntry).Receipts || c.Get(domain.PlanPro).Receipts {
		t.Fatalf("FromEnv: %v, entry %v, pro %v", err, c.Get(domain.PlanEntry).Receipts, c.Get(domain.PlanPro).Receipts)
	}
	if _, err := plans.FromEnv(func(k string) string { return map[string]string{"PLAN_ENT_RECEIPTS": "yes"}[k] }); err == nil {
		t.Fatal("PLAN_ENT_RECEIPTS=yes was accepted")
	}
}

func TestFromEnvPrices(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PLAN_ENTRY_PRICE": "1299", "PLAN_ENTRY_INCLUDED_TASK_MINUTES": "0", "PLAN_ENTRY_INCLUDED_STREAMS": "5",
		"PLAN_ENTRY_INCLUDED_GIB_STREAMED": "2", "PLAN_ENTRY_OVERAGE_1000_TASK_MINUTES": "300",
		"PLAN_ENTRY_OVERAGE_1000_STREAMS": "0", "PLAN_ENTRY_OVERAGE_GIB_STREAMED": "12", "BILLING_CURRENCY": "eur",
	}
	c, err := plans.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := plans.Price{Monthly: 1299, Included: plans.Meters{Streams: 5, GiBStreamed: 2}, Overage: plans.Meters{TaskMinutes: 300, GiBStreamed: 12}}
	if got := c.Get(domain.PlanEntry).Price; got != want || c.Currency() != "eur" {
		t.Fatalf("entry's price %+v in %s, want %+v in eur", got, c.Currency(), want)
	}
	if p := plans.Default(); p.Currency() != "usd" || p.Get(domain.PlanEntry).Price.Monthly != 999 || p.Get(domain.PlanPro).Price.Monthly != 2900 ||
		p.Get(domain.PlanEnt).Price.Monthly != 19900 || p.Get(domain.PlanTrial).Price.Monthly != 0 {
		t.Fatalf("default prices: %+v", p.All())
	}
	for k, v := range map[string]string{"PLAN_PRO_PRICE": "-1", "PLAN_ENT_OVERAGE_GIB_STREAMED": "1.5", "BILLING_CURRENCY": "USD", "PLAN_TRIAL_INCLUDED_STREAMS": "x"} {
		_, err := plans.FromEnv(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), "set it to") {
			t.Errorf("%s=%s: error %v does not name the variable and what to set it to", k, v, err)
		}
	}
}

func TestTrial(t *testing.T) {
	t.Parallel()
	c, err := plans.FromEnv(func(k string) string {
		return map[string]string{"TRIAL_DAYS": "14", "TRIAL_EXPIRED_TASKS_PER_DAY": "5"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	trial := c.Get(domain.PlanTrial)
	if p := c.Effective(trial, created, created.AddDate(0, 0, 13)); !p.TrialEnded.IsZero() || p.TasksPerDay != 100 || c.TrialDays() != 14 {
		t.Errorf("within the trial: %+v", p)
	}
	if p := c.Effective(trial, created, created.AddDate(0, 0, 14)); !p.TrialEnded.Equal(created.AddDate(0, 0, 14)) || p.TasksPerDay != 5 {
		t.Errorf("after the trial: %+v", p)
	}
	if p := c.Effective(c.Get(domain.PlanPro), created, created.AddDate(1, 0, 0)); !p.TrialEnded.IsZero() {
		t.Errorf("pro after a year: %+v", p)
	}
	if d := plans.Default(); d.TrialDays() != 7 || d.Effective(trial, created, created.AddDate(0, 0, 7)).TasksPerDay != 0 {
		t.Errorf("default trial: %d days", d.TrialDays())
	}
	for k, v := range map[string]string{"TRIAL_DAYS": "0", "TRIAL_EXPIRED_TASKS_PER_DAY": "-1"} {
		_, err := plans.FromEnv(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
