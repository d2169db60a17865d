// Package plans holds the plan catalog: what each plan (trial, entry, pro,
// ent) allows a tenant — tasks started per UTC day, tasks running at once,
// the longest timeout, how long streams are kept — with defaults that the
// environment can change.
package plans

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/axontask/axontask/domain"
)

// Plan is what a tenant on it may do.
type Plan struct {
	Name domain.PlanName
	// TasksPerDay bounds the tasks started per UTC day; past it, starts
	// answer 429 until midnight UTC.
	TasksPerDay int
	// Concurrency bounds the tasks running at once.
	Concurrency int
	// MaxTimeoutS bounds a task's timeout_s.
	MaxTimeoutS int
	// RetentionDays is how long a finished task's stream is kept.
	RetentionDays int
}

// Catalog is the set of plans and the one new tenants start on. It is
// immutable once built.
type Catalog struct {
	plans       map[domain.PlanName]Plan
	defaultPlan domain.PlanName
}

// defaults are the plans before the environment changes them.
var defaults = []Plan{
	{Name: domain.PlanTrial, TasksPerDay: 100, Concurrency: 2, MaxTimeoutS: 10 * 60, RetentionDays: 1},
	{Name: domain.PlanEntry, TasksPerDay: 1_000, Concurrency: 5, MaxTimeoutS: 60 * 60, RetentionDays: 7},
	{Name: domain.PlanPro, TasksPerDay: 10_000, Concurrency: 20, MaxTimeoutS: 6 * 60 * 60, RetentionDays: 30},
	{Name: domain.PlanEnt, TasksPerDay: 100_000, Concurrency: 100, MaxTimeoutS: 24 * 60 * 60, RetentionDays: 90},
}

// Limits on configured values.
const (
	maxTasksPerDay   = 10_000_000
	maxConcurrency   = 100_000
	maxTimeoutS      = 7 * 24 * 60 * 60
	maxRetentionDays = 3650
)

// Default returns the built-in catalog; new tenants start on trial.
func Default() Catalog {
	c, _ := FromEnv(func(string) string { return "" })
	return c
}

// FromEnv builds the catalog from the defaults and getenv (os.Getenv):
// PLAN_<NAME>_TASKS_PER_DAY, PLAN_<NAME>_CONCURRENCY,
// PLAN_<NAME>_MAX_TIMEOUT_S and PLAN_<NAME>_RETENTION_DAYS for NAME in
// TRIAL, ENTRY, PRO, ENT, and DEFAULT_PLAN (the plan of new tenants,
// default trial). Bad values fail with an error naming the variable.
func FromEnv(getenv func(string) string) (Catalog, error) {
	c := Catalog{plans: make(map[domain.PlanName]Plan, len(defaults)), defaultPlan: domain.PlanTrial}
	for _, p := range defaults {
		prefix := "PLAN_" + strings.ToUpper(string(p.Name)) + "_"
		for _, knob := range []struct {
			name  string
			value *int
			limit int
		}{
			{"TASKS_PER_DAY", &p.TasksPerDay, maxTasksPerDay},
			{"CONCURRENCY", &p.Concurrency, maxConcurrency},
			{"MAX_TIMEOUT_S", &p.MaxTimeoutS, maxTimeoutS},
			{"RETENTION_DAYS", &p.RetentionDays, maxRetentionDays},
		} {
			s := getenv(prefix + knob.name)
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > knob.limit {
				return Catalog{}, fmt.Errorf("%s%s is %q; set it to a whole number from 1 to %d", prefix, knob.name, s, knob.limit)
			}
			*knob.value = n
		}
		c.plans[p.Name] = p
	}
	if s := getenv("DEFAULT_PLAN"); s != "" {
		name, err := domain.ParsePlanName(s)
		if err != nil {
			return Catalog{}, fmt.Errorf("DEFAULT_PLAN: %w", err)
		}
		c.defaultPlan = name
	}
	return c, nil
}

// Get returns the plan called name; the empty name is the default plan.
func (c Catalog) Get(name domain.PlanName) Plan {
	if p, ok := c.plans[name]; ok {
		return p
	}
	return c.plans[c.defaultPlan]
}

// All returns every plan, from trial to ent.
func (c Catalog) All() []Plan {
	out := make([]Plan, 0, len(c.plans))
	for _, p := range defaults {
		out = append(out, c.plans[p.Name])
	}
	return slices.Clip(out)
}

// MinRetentionDays returns the shortest retention of any plan.
func (c Catalog) MinRetentionDays() int {
	least := maxRetentionDays
	for _, p := range c.plans {
		least = min(least, p.RetentionDays)
	}
	return least
}
