package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/plans"
)

// planCacheTTL is how long a tenant's plan is remembered: a plan change
// takes effect on every API process within it.
const planCacheTTL = 10 * time.Second

// maxCachedPlans bounds the plan cache; past it, it starts afresh.
const maxCachedPlans = 100_000

// QuotaStore is what Quotas needs of the event store: tenant streams and
// the daily start counter.
type QuotaStore interface {
	StreamReader
	TaskStartReserve(ctx context.Context, tenantID string, day time.Time, n, limit int) (used int, ok bool, err error)
	TaskStartRelease(ctx context.Context, tenantID string, day time.Time, n int) error
}

// QuotaExceededError reports a start, or a batch of starts, past the
// plan's daily task cap.
type QuotaExceededError struct {
	Plan domain.PlanName
	// Limit is the plan's tasks per day; Used the tasks started today.
	Limit, Used int
	// Requested is the count of starts refused: 1, or a batch's size.
	Requested int
	// ResetsAt is the next midnight UTC, when starts are allowed again.
	ResetsAt time.Time
}

// Fit is how many more starts the cap allows today.
func (e *QuotaExceededError) Fit() int { return max(e.Limit-e.Used, 0) }

func (e *QuotaExceededError) Error() string {
	if e.Requested > 1 {
		return fmt.Sprintf("the %s plan allows %d tasks a day and %d were started today: %d more fit, and the batch has %d, so none was started; send at most %d, or wait until %s",
			e.Plan, e.Limit, e.Used, e.Fit(), e.Requested, e.Fit(), e.ResetsAt.Format(time.RFC3339))
	}
	return fmt.Sprintf("the %s plan allows %d tasks a day and %d were started today; starts are allowed again at %s",
		e.Plan, e.Limit, e.Used, e.ResetsAt.Format(time.RFC3339))
}

// Quotas applies tenants' plans to starts: the longest timeout and the
// daily task cap, counted exactly across API processes. It is safe for
// concurrent use.
type Quotas struct {
	store   QuotaStore
	catalog plans.Catalog
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]cachedPlan
}

type cachedPlan struct {
	plan     plans.Plan
	loadedAt time.Time
}

// NewQuotas returns the quotas of catalog's plans, kept in store; now reads
// the time (nil: time.Now).
func NewQuotas(store QuotaStore, catalog plans.Catalog, now func() time.Time) *Quotas {
	if now == nil {
		now = time.Now
	}
	return &Quotas{store: store, catalog: catalog, now: now, cache: make(map[string]cachedPlan)}
}

// Catalog returns the plans the quotas apply.
func (q *Quotas) Catalog() plans.Catalog { return q.catalog }

// Plan returns the tenant's plan: the one its stream names, or the default
// plan (also for a tenant without a stream). It is read at most every
// planCacheTTL per tenant.
func (q *Quotas) Plan(ctx context.Context, tenantID string) (plans.Plan, error) {
	now := q.now()
	q.mu.Lock()
	c, ok := q.cache[tenantID]
	q.mu.Unlock()
	if ok && now.Sub(c.loadedAt) < planCacheTTL {
		return c.plan, nil
	}
	var t domain.Tenant
	if err := Load(ctx, q.store, eventstore.Stream{ID: tenantID, Type: domain.StreamTenant}, &t); err != nil {
		return plans.Plan{}, err
	}
	p := q.catalog.Effective(q.catalog.Get(t.Plan()), t.CreatedAt(), now)
	if grace := t.PastDueGraceEnds(); !grace.IsZero() && !now.Before(grace) {
		p.PastDueGraceEnded = grace
	}
	q.mu.Lock()
	if len(q.cache) >= maxCachedPlans {
		clear(q.cache)
	}
	q.cache[tenantID] = cachedPlan{plan: p, loadedAt: now}
	q.mu.Unlock()
	return p, nil
}

// TrialEndedError reports a start of a tenant whose trial has ended and
// who has no plan that allows starts after it.
type TrialEndedError struct {
	// EndedAt is when the trial ended.
	EndedAt time.Time
}

func (e *TrialEndedError) Error() string {
	return fmt.Sprintf("the trial ended at %s; subscribe to a plan (POST /v1/billing/checkout, or ask the operator) to start tasks again",
		e.EndedAt.UTC().Format(time.RFC3339))
}

// PaymentPastDueError reports a start of a tenant whose payment failed
// and whose grace period has ended.
type PaymentPastDueError struct {
	// GraceEnded is when the grace period ended.
	GraceEnded time.Time
}

func (e *PaymentPastDueError) Error() string {
	return fmt.Sprintf("a payment failed and its grace period ended at %s; pay the open invoice (POST /v1/billing/portal) to start tasks again",
		e.GraceEnded.UTC().Format(time.RFC3339))
}

// reserve counts n starts of the tenant today, all or none, or fails with
// a *QuotaExceededError, a *TrialEndedError when its trial ended and no
// start is allowed after it, or a *PaymentPastDueError when a payment
// failed and its grace period ended. release undoes it, for starts that
// did not happen.
func (q *Quotas) reserve(ctx context.Context, tenantID string, p plans.Plan, n int) (release func(), err error) {
	if !p.PastDueGraceEnded.IsZero() {
		return nil, &PaymentPastDueError{GraceEnded: p.PastDueGraceEnded}
	}
	if !p.TrialEnded.IsZero() && p.TasksPerDay == 0 {
		return nil, &TrialEndedError{EndedAt: p.TrialEnded}
	}
	day := q.now().UTC()
	used, ok, err := q.store.TaskStartReserve(ctx, tenantID, day, n, p.TasksPerDay)
	if err != nil {
		return nil, fmt.Errorf("count the starts: %w", err)
	}
	if !ok {
		midnight := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, time.UTC)
		return nil, &QuotaExceededError{Plan: p.Name, Limit: p.TasksPerDay, Used: used, Requested: n, ResetsAt: midnight}
	}
	return func() { _ = q.store.TaskStartRelease(context.WithoutCancel(ctx), tenantID, day, n) }, nil
}

// startedBefore reports whether starts, one start or a batch, are a
// repeated command that already started them, so that they are not counted
// twice: every start has a CommandID, and the first one's task exists. A
// batch is stored all or none, so its first task tells for the batch (a
// batch of which only some tasks exist fails to append, and is not
// counted). Two copies of one command racing may both be counted.
func (q *Quotas) startedBefore(ctx context.Context, starts []preparedStart) (bool, error) {
	for _, p := range starts {
		if p.commandID == "" {
			return false, nil
		}
	}
	first, err := q.store.ReadStream(ctx, starts[0].taskID.String(), 0, 1)
	return len(first) > 0, err
}

// ErrTenantNotFound reports an operator command on a tenant that does not exist.
var ErrTenantNotFound = errors.New("tenant not found")
