// Package plans holds the plan catalog: what each plan (trial, entry, pro,
// ent) allows a tenant — tasks started per UTC day, tasks running at once,
// the longest timeout, how long streams are kept, and what each task may
// use (memory, processes, CPU, files, network, output) — with defaults that
// the environment can change.
package plans

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// Receipts says whether the tenant's ended tasks get signed receipts
	// (GET /mcp/tasks/{id}/receipt). Checkpoints and proofs of the
	// transparency log are open to every plan.
	Receipts bool

	// TaskLimits bound each of the tenant's tasks.
	domain.TaskLimits

	// Price is what the plan costs (the billing view's estimate).
	Price Price

	// TrialEnded is when the tenant's trial ended, set by the quotas on
	// the plan of a tenant still on the trial after it (zero otherwise);
	// TasksPerDay is then the catalog's TrialExpiredTasksPerDay.
	TrialEnded time.Time
	// PastDueGraceEnded is when the grace period of the tenant's failed
	// payment ended, set by the quotas while it is past due after it:
	// its starts are refused. Zero while its payments are in order.
	PastDueGraceEnded time.Time
}

// Price is a plan's price per month, in minor units (cents) of the
// catalog's Currency: a fixed amount that includes some of each meter,
// and a price of what is used beyond it.
type Price struct {
	// Monthly is the fixed amount of a month (0: free).
	Monthly int64
	// Included is what the fixed amount includes, per month.
	Included Meters
	// Overage prices what is used beyond Included: per 1,000 task-minutes,
	// per 1,000 streams and per GiB streamed (0: not charged).
	Overage Meters
}

// Meters are quantities (Price.Included) or prices (Price.Overage) of the
// three metered quantities.
type Meters struct {
	// TaskMinutes: task-minutes included, or the price of 1,000.
	TaskMinutes int64
	// Streams: SSE streams opened included, or the price of 1,000.
	Streams int64
	// GiBStreamed: GiB streamed included, or the price of one.
	GiBStreamed int64
}

// Catalog is the set of plans and the one new tenants start on. It is
// immutable once built.
type Catalog struct {
	plans       map[domain.PlanName]Plan
	defaultPlan domain.PlanName
	currency    string
	// trialDays is how long a tenant's trial lasts from its creation;
	// expiredTasksPerDay the tasks a day of a tenant still on the trial
	// after it (0: none, starts answer 402).
	trialDays, expiredTasksPerDay int
}

// Defaults of the trial.
const (
	// DefaultTrialDays is how long a trial lasts unless TRIAL_DAYS says
	// otherwise.
	DefaultTrialDays = 7
	maxTrialDays     = 366
)

// DefaultCurrency is the currency of prices unless BILLING_CURRENCY says
// otherwise.
const DefaultCurrency = "usd"

// mib is a mebibyte; gib a gibibyte.
const (
	mib = 1 << 20
	gib = 1 << 30
)

// defaults are the plans before the environment changes them. Trial tasks
// get no internet: a free plan must not be a free relay.
var defaults = []Plan{
	{Name: domain.PlanTrial, TasksPerDay: 100, Concurrency: 2, MaxTimeoutS: 10 * 60, RetentionDays: 1,
		TaskLimits: domain.TaskLimits{MemoryBytes: 512 * mib, Pids: 128, CPUMilli: 1000, OpenFiles: 1024, FileSizeBytes: 256 * mib, WorkDirBytes: 1 * gib,
			Egress: false, OutputBytes: 32 * mib, OutputEvents: 50_000},
		Price: Price{Included: Meters{TaskMinutes: 1_000, Streams: 1_000, GiBStreamed: 1}}},
	{Name: domain.PlanEntry, TasksPerDay: 1_000, Concurrency: 5, MaxTimeoutS: 60 * 60, RetentionDays: 7,
		TaskLimits: domain.TaskLimits{MemoryBytes: 1 * gib, Pids: 256, CPUMilli: 2000, OpenFiles: 2048, FileSizeBytes: 1 * gib, WorkDirBytes: 4 * gib,
			Egress: true, OutputBytes: 64 * mib, OutputEvents: 100_000},
		Price: Price{Monthly: 999, Included: Meters{TaskMinutes: 3_000, Streams: 10_000, GiBStreamed: 10}, Overage: Meters{TaskMinutes: 200, Streams: 50, GiBStreamed: 10}}},
	{Name: domain.PlanPro, TasksPerDay: 10_000, Concurrency: 20, MaxTimeoutS: 6 * 60 * 60, RetentionDays: 30, Receipts: true,
		TaskLimits: domain.TaskLimits{MemoryBytes: 4 * gib, Pids: 1024, CPUMilli: 4000, OpenFiles: 4096, FileSizeBytes: 4 * gib, WorkDirBytes: 16 * gib,
			Egress: true, OutputBytes: 256 * mib, OutputEvents: 500_000},
		Price: Price{Monthly: 2_900, Included: Meters{TaskMinutes: 20_000, Streams: 100_000, GiBStreamed: 100}, Overage: Meters{TaskMinutes: 150, Streams: 40, GiBStreamed: 8}}},
	{Name: domain.PlanEnt, TasksPerDay: 100_000, Concurrency: 100, MaxTimeoutS: 24 * 60 * 60, RetentionDays: 90, Receipts: true,
		TaskLimits: domain.TaskLimits{MemoryBytes: 16 * gib, Pids: 4096, CPUMilli: 8000, OpenFiles: 8192, FileSizeBytes: 16 * gib, WorkDirBytes: 64 * gib,
			Egress: true, OutputBytes: 1 * gib, OutputEvents: 2_000_000},
		Price: Price{Monthly: 19_900, Included: Meters{TaskMinutes: 200_000, Streams: 1_000_000, GiBStreamed: 1_000}, Overage: Meters{TaskMinutes: 100, Streams: 30, GiBStreamed: 5}}},
}

// Limits on configured values.
const (
	maxTasksPerDay   = 10_000_000
	maxConcurrency   = 100_000
	maxTimeoutS      = 7 * 24 * 60 * 60
	maxRetentionDays = 3650
	maxMemoryMB      = 1 << 20 // 1 TiB
	maxPids          = 1 << 22 // Linux's highest pid_max
	maxCPUMilli      = 1024 * 1000
	maxOpenFiles     = 1 << 20 // Linux's default nr_open
	maxFileSizeMB    = 1 << 24 // 16 TiB
	maxWorkDirMB     = 1 << 24
	maxOutputMB      = 1 << 16 // 64 GiB
	maxOutputEvents  = 1_000_000_000
	maxAmount        = 1_000_000_000 // minor units: ten million dollars
	maxQuantity      = 1_000_000_000_000
)

// Default returns the built-in catalog; new tenants start on trial.
func Default() Catalog {
	c, _ := FromEnv(func(string) string { return "" })
	return c
}

// FromEnv builds the catalog from the defaults and getenv (os.Getenv):
// for NAME in TRIAL, ENTRY, PRO, ENT, PLAN_<NAME>_TASKS_PER_DAY,
// PLAN_<NAME>_CONCURRENCY, PLAN_<NAME>_MAX_TIMEOUT_S,
// PLAN_<NAME>_RETENTION_DAYS, PLAN_<NAME>_RECEIPTS (true or false: signed
// receipts, on by default for pro and ent), and the limits of each task:
// PLAN_<NAME>_MEMORY_MB, PLAN_<NAME>_PIDS, PLAN_<NAME>_CPUS (a decimal
// number of CPUs, such as 1.5), PLAN_<NAME>_OPEN_FILES,
// PLAN_<NAME>_FILE_SIZE_MB, PLAN_<NAME>_WORKDIR_MB, PLAN_<NAME>_EGRESS
// (true or false), PLAN_<NAME>_OUTPUT_MB and PLAN_<NAME>_OUTPUT_EVENTS;
// the price: PLAN_<NAME>_PRICE (per month, in minor units of the
// currency), PLAN_<NAME>_INCLUDED_TASK_MINUTES, PLAN_<NAME>_INCLUDED_STREAMS,
// PLAN_<NAME>_INCLUDED_GIB_STREAMED, PLAN_<NAME>_OVERAGE_1000_TASK_MINUTES,
// PLAN_<NAME>_OVERAGE_1000_STREAMS and PLAN_<NAME>_OVERAGE_GIB_STREAMED
// (whole numbers, 0 allowed); TRIAL_DAYS (how long a trial lasts from the
// tenant's creation, default 7) and TRIAL_EXPIRED_TASKS_PER_DAY (the
// tasks a day of a tenant still on the trial after it, default 0);
// BILLING_CURRENCY (an ISO 4217 code in
// lower case, default usd); and DEFAULT_PLAN (the plan of new tenants,
// default trial). A size in MB is in mebibytes. Bad values fail with an
// error naming the variable.
func FromEnv(getenv func(string) string) (Catalog, error) {
	c := Catalog{plans: make(map[domain.PlanName]Plan, len(defaults)), defaultPlan: domain.PlanTrial, currency: DefaultCurrency, trialDays: DefaultTrialDays}
	for _, p := range defaults {
		prefix := "PLAN_" + strings.ToUpper(string(p.Name)) + "_"
		for _, k := range knobs(&p) {
			s := getenv(prefix + k.name)
			if s == "" {
				continue
			}
			if err := k.set(s); err != nil {
				return Catalog{}, fmt.Errorf("%s%s is %q; %w", prefix, k.name, s, err)
			}
		}
		c.plans[p.Name] = p
	}
	for _, k := range []knob{{"TRIAL_DAYS", whole(&c.trialDays, maxTrialDays)}, {"TRIAL_EXPIRED_TASKS_PER_DAY", wholeOrZero(&c.expiredTasksPerDay, maxTasksPerDay)}} {
		if s := getenv(k.name); s != "" {
			if err := k.set(s); err != nil {
				return Catalog{}, fmt.Errorf("%s is %q; %w", k.name, s, err)
			}
		}
	}
	if s := getenv("BILLING_CURRENCY"); s != "" {
		if len(s) != 3 || strings.ContainsFunc(s, func(r rune) bool { return r < 'a' || r > 'z' }) {
			return Catalog{}, fmt.Errorf("BILLING_CURRENCY is %q; set it to a currency code in lower case, such as usd or eur", s)
		}
		c.currency = s
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

// knob is a setting of a plan that the environment can change: set parses
// the variable's value into the plan, or says what to set it to.
type knob struct {
	name string
	set  func(string) error
}

// knobs returns the knobs of p, by the name of their variable after
// PLAN_<NAME>_.
func knobs(p *Plan) []knob {
	return []knob{
		{"TASKS_PER_DAY", whole(&p.TasksPerDay, maxTasksPerDay)},
		{"CONCURRENCY", whole(&p.Concurrency, maxConcurrency)},
		{"MAX_TIMEOUT_S", whole(&p.MaxTimeoutS, maxTimeoutS)},
		{"RETENTION_DAYS", whole(&p.RetentionDays, maxRetentionDays)},
		{"RECEIPTS", boolean(&p.Receipts)},
		{"MEMORY_MB", mebibytes(&p.MemoryBytes, maxMemoryMB)},
		{"PIDS", whole(&p.Pids, maxPids)},
		{"CPUS", cpus(&p.CPUMilli)},
		{"OPEN_FILES", whole(&p.OpenFiles, maxOpenFiles)},
		{"FILE_SIZE_MB", mebibytes(&p.FileSizeBytes, maxFileSizeMB)},
		{"WORKDIR_MB", mebibytes(&p.WorkDirBytes, maxWorkDirMB)},
		{"EGRESS", boolean(&p.Egress)},
		{"OUTPUT_MB", mebibytes(&p.OutputBytes, maxOutputMB)},
		{"OUTPUT_EVENTS", whole(&p.OutputEvents, maxOutputEvents)},
		{"PRICE", amount(&p.Price.Monthly, maxAmount)},
		{"INCLUDED_TASK_MINUTES", amount(&p.Price.Included.TaskMinutes, maxQuantity)},
		{"INCLUDED_STREAMS", amount(&p.Price.Included.Streams, maxQuantity)},
		{"INCLUDED_GIB_STREAMED", amount(&p.Price.Included.GiBStreamed, maxQuantity)},
		{"OVERAGE_1000_TASK_MINUTES", amount(&p.Price.Overage.TaskMinutes, maxAmount)},
		{"OVERAGE_1000_STREAMS", amount(&p.Price.Overage.Streams, maxAmount)},
		{"OVERAGE_GIB_STREAMED", amount(&p.Price.Overage.GiBStreamed, maxAmount)},
	}
}

// whole parses a whole number from 1 to limit into v.
func whole[N int | int64](v *N, limit N) func(string) error {
	return func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 || n > int64(limit) {
			return fmt.Errorf("set it to a whole number from 1 to %d", limit)
		}
		*v = N(n)
		return nil
	}
}

// amount parses a whole number from 0 to limit into v: a price in minor
// units, or a quantity.
func amount(v *int64, limit int64) func(string) error { return wholeOrZero(v, limit) }

// wholeOrZero parses a whole number from 0 to limit into v.
func wholeOrZero[N int | int64](v *N, limit N) func(string) error {
	return func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > int64(limit) {
			return fmt.Errorf("set it to a whole number from 0 to %d", limit)
		}
		*v = N(n)
		return nil
	}
}

// mebibytes parses a whole number of MiB from 1 to limitMB into v, in bytes.
func mebibytes(v *int64, limitMB int64) func(string) error {
	return func(s string) error {
		var n int64
		if err := whole(&n, limitMB)(s); err != nil {
			return fmt.Errorf("%w (MiB)", err)
		}
		*v = n * mib
		return nil
	}
}

// cpus parses a number of CPUs with at most three decimals (1, 0.5, 1.25)
// into v, in thousandths of one CPU.
func cpus(v *int) func(string) error {
	return func(s string) error {
		wrong := fmt.Errorf("set it to a number of CPUs from 0.001 to %d with at most three decimals, such as 2 or 1.5", maxCPUMilli/1000)
		units, frac, _ := strings.Cut(s, ".")
		if units == "" || len(frac) > 3 || !digits(units) || !digits(frac) || len(units) > 4 {
			return wrong
		}
		n, _ := strconv.Atoi(units + (frac + "000")[:3]) // at most 7 digits
		if n < 1 || n > maxCPUMilli {
			return wrong
		}
		*v = n
		return nil
	}
}

// digits reports whether s holds ASCII digits only.
func digits(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// boolean parses true or false into v.
func boolean(v *bool) func(string) error {
	return func(s string) error {
		switch s {
		case "true":
			*v = true
		case "false":
			*v = false
		default:
			return errors.New("set it to true or false")
		}
		return nil
	}
}

// TrialDays returns how long a tenant's trial lasts from its creation.
func (c Catalog) TrialDays() int { return c.trialDays }

// TrialEnds returns when the trial of a tenant created at created ends.
func (c Catalog) TrialEnds(created time.Time) time.Time { return created.AddDate(0, 0, c.trialDays) }

// Effective returns p as it applies to a tenant created at created and
// still on it at now: p itself unless p is the trial and the trial has
// ended, else p with TrialEnded set and TasksPerDay lowered to
// TRIAL_EXPIRED_TASKS_PER_DAY.
func (c Catalog) Effective(p Plan, created, now time.Time) Plan {
	if p.Name != domain.PlanTrial || created.IsZero() {
		return p
	}
	if end := c.TrialEnds(created); !now.Before(end) {
		p.TrialEnded, p.TasksPerDay = end, c.expiredTasksPerDay
	}
	return p
}

// Currency returns the currency of the plans' prices (an ISO 4217 code in
// lower case, as Stripe writes it).
func (c Catalog) Currency() string { return c.currency }

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
