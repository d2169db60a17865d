package readapi

import (
	"context"
	"net/http"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/projections"
)

// usageReader admits the callers that may read tasks, when usage is
// served at all (Config.Usage; 404 otherwise). An agent's key with
// tasks:read sees its tenant's usage, its budget.
func (a *api) usageReader(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.Usage == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.ownTenant(w, r, domain.ActionReadTasks)
}

// ownTenant admits the callers that may take action, asking about their
// own tenant: a ?tenant_id= naming another tenant answers 404, as if it
// did not exist.
func (a *api) ownTenant(w http.ResponseWriter, r *http.Request, action domain.Action) (commands.Principal, error) {
	p, err := a.caller(w, r, action)
	if err != nil {
		return p, err
	}
	if id := r.URL.Query().Get("tenant_id"); r.URL.Query().Has("tenant_id") && id != p.TenantID {
		return commands.Principal{}, commands.ErrTenantNotFound
	}
	return p, nil
}

// usage answers GET /v1/usage?period=YYYY-MM or ?from=YYYY-MM-DD&to=YYYY-MM-DD
// (the current UTC month without either).
func (a *api) usage(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.Usage, error) {
	rng, err := usageRange(r, a.cfg.NowFunc())
	if err != nil {
		return wire.Usage{}, err
	}
	days, err := a.readUsage(r.Context(), p.TenantID, rng)
	if err != nil {
		return wire.Usage{}, err
	}
	return usageOf(rng, days), nil
}

// readUsage reads the tenant's counters of rng.
func (a *api) readUsage(ctx context.Context, tenantID string, rng dayRange) ([]projections.UsageDay, error) {
	return a.cfg.Usage.UsageCountersRead(ctx, tenantID, rng.first, rng.last)
}

// dayRange is a range of UTC days, both ends included; period names it
// when it is a month.
type dayRange struct {
	period      string
	first, last time.Time
}

// monthOf returns the UTC month of t as a dayRange.
func monthOf(t time.Time) dayRange {
	first, last := projections.MonthOf(t)
	return dayRange{period: first.Format("2006-01"), first: first, last: last}
}

// usageRange reads ?period= or ?from=&to=; neither is now's month. Errors
// name the parameter and the form it takes.
func usageRange(r *http.Request, now time.Time) (dayRange, error) {
	q := r.URL.Query()
	switch {
	case q.Has("period") && (q.Has("from") || q.Has("to")):
		return dayRange{}, &domain.ValidationError{Field: "period", Reason: "cannot be combined with from and to; ask for a month or a range of days"}
	case q.Has("period"):
		m, err := time.Parse("2006-01", q.Get("period"))
		if err != nil {
			return dayRange{}, &domain.ValidationError{Field: "period", Reason: "must be a month as YYYY-MM, such as 2026-12"}
		}
		return monthOf(m), nil
	case q.Has("from") || q.Has("to"):
		first, err := time.Parse(time.DateOnly, q.Get("from"))
		if err != nil {
			return dayRange{}, &domain.ValidationError{Field: "from", Reason: "must be a UTC day as YYYY-MM-DD, given with to"}
		}
		last, err := time.Parse(time.DateOnly, q.Get("to"))
		if err != nil {
			return dayRange{}, &domain.ValidationError{Field: "to", Reason: "must be a UTC day as YYYY-MM-DD, given with from"}
		}
		return dayRange{first: first, last: last}, nil
	}
	return monthOf(now), nil
}

// usageOf renders the days of rng.
func usageOf(rng dayRange, days []projections.UsageDay) wire.Usage {
	u := wire.Usage{Period: rng.period, From: rng.first.Format(time.DateOnly), To: rng.last.Format(time.DateOnly),
		UsageCounts: usageCounts(projections.SumUsage(days)), Days: make([]wire.UsageDay, len(days))}
	for i, d := range days {
		u.Days[i] = wire.UsageDay{Day: d.Day.Format(time.DateOnly), UsageCounts: usageCounts(d.UsageCounts)}
	}
	return u
}

func usageCounts(c projections.UsageCounts) wire.UsageCounts {
	return wire.UsageCounts{TaskMinutes: c.TaskMinutes(), TaskRunMS: c.TaskRunMS, TasksStarted: c.TasksStarted,
		StreamsOpened: c.StreamsOpened, BytesStreamed: c.BytesStreamed, MCPCalls: c.MCPCalls, OutputBytes: c.OutputBytes}
}
