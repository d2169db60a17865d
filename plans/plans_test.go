package plans_test

import (
	"strings"
	"testing"

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
