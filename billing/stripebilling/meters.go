package stripebilling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v85"

	"github.com/axontask/axontask/billing"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/projections"
)

// Defaults of ReporterConfig.
const (
	// DefaultReportLag is how long after a UTC day ends its usage is
	// reported: long enough for the API processes' last flushes of it.
	DefaultReportLag = 10 * time.Minute
	// DefaultReportInterval is how often the reporter looks for a day to
	// report.
	DefaultReportInterval = 5 * time.Minute
)

// MeterNames are the event names of the Stripe Billing Meters that usage
// is reported to; a meter without a name is not reported.
type MeterNames struct {
	TaskMinutes, Streams, BytesStreamed string
}

// Cursor keeps the reporter's place: the next UTC day to report, in days
// since 1970-01-01 (0: none saved). postgres.Store.Checkpoint and
// sqlite.Store.Checkpoint give one.
type Cursor interface {
	Load(ctx context.Context) (int64, error)
	Save(ctx context.Context, next int64) error
}

// ReporterConfig configures a Reporter.
type ReporterConfig struct {
	// Usage is the usage counters read model; required.
	Usage projections.UsageStore
	// Cursor keeps the next day to report; required.
	Cursor Cursor
	// Meters names the Stripe meters; at least one is required.
	Meters MeterNames
	// Lag and Interval: see DefaultReportLag and DefaultReportInterval.
	Lag, Interval time.Duration
	// NowFunc reads the clock (default time.Now).
	NowFunc func() time.Time
	// Logger receives failed reports, once per outage (default slog.Default()).
	Logger *slog.Logger
}

// Reporter reports each tenant's usage of each closed UTC day to Stripe
// Billing Meters, once: a day's meter events carry identifiers derived
// from the tenant, the day and the meter, which Stripe accepts once in
// its rolling window of at least 24 hours, and the cursor moves past a
// day only once all of its events were accepted. A reporter that crashes
// in the middle of a day sends that day again when it restarts, and
// Stripe drops what it already has; nothing is skipped. Only tenants with
// a Stripe customer are reported. Run one per deployment (elected).
type Reporter struct {
	s   *Service
	cfg ReporterConfig
}

// NewReporter returns the meter reporter of s; it fails when cfg cannot
// work.
func (s *Service) NewReporter(cfg ReporterConfig) (*Reporter, error) {
	if cfg.Lag == 0 {
		cfg.Lag = DefaultReportLag
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultReportInterval
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Usage == nil || cfg.Cursor == nil:
		return nil, errors.New("stripe meter reporter config: Usage and Cursor are required")
	case cfg.Meters == (MeterNames{}):
		return nil, errors.New("stripe meter reporter config: name at least one meter (STRIPE_METER_TASK_MINUTES, STRIPE_METER_STREAMS, STRIPE_METER_BYTES_STREAMED)")
	case cfg.Lag < 0 || cfg.Interval <= 0:
		return nil, fmt.Errorf("stripe meter reporter config: Lag %s and Interval %s must be positive", cfg.Lag, cfg.Interval)
	}
	return &Reporter{s: s, cfg: cfg}, nil
}

// Run reports the days due every Interval until ctx ends, and then
// returns ctx's error. Failures are retried at the next tick.
func (r *Reporter) Run(ctx context.Context) error {
	retry := &backoff.Retry{Dependency: backoff.DependencyStripe, What: "billing: report usage to Stripe meters", Meanwhile: "the days wait", Logger: r.cfg.Logger}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := r.ReportDue(ctx); err != nil && ctx.Err() == nil {
			retry.Note(ctx, err)
		} else {
			retry.Succeeded()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

const day = 24 * time.Hour

// ReportDue reports every day that ended at least Lag ago and is not
// reported yet, oldest first, and returns how many it reported. The first
// call of a deployment starts with the current day: usage from before
// billing was enabled is not reported.
func (r *Reporter) ReportDue(ctx context.Context) (int, error) {
	next, err := r.cfg.Cursor.Load(ctx)
	if err != nil {
		return 0, err
	}
	now := r.cfg.NowFunc().UTC()
	if next == 0 {
		next = now.Unix() / int64(day/time.Second)
		if err := r.cfg.Cursor.Save(ctx, next); err != nil {
			return 0, err
		}
	}
	n := 0
	customers := map[string]string{} // by tenant, read once for all the days
	for d := time.Unix(next*int64(day/time.Second), 0).UTC(); !now.Before(d.Add(day + r.cfg.Lag)); d = d.Add(day) {
		if err := r.reportDay(ctx, d, customers); err != nil {
			return n, fmt.Errorf("report %s: %w", d.Format(time.DateOnly), err)
		}
		if err := r.cfg.Cursor.Save(ctx, d.Add(day).Unix()/int64(day/time.Second)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// reportDay sends the meter events of every tenant with a Stripe customer
// that used something on day d; customers caches the tenants' Stripe
// customers ("" for none).
func (r *Reporter) reportDay(ctx context.Context, d time.Time, customers map[string]string) error {
	for after := ""; ; {
		rows, err := r.cfg.Usage.UsageCountersOfDay(ctx, d, after, projections.MaxUsageDayRows)
		if err != nil || len(rows) == 0 {
			return err
		}
		for _, row := range rows {
			if err := r.reportTenant(ctx, row, customers); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].TenantID
	}
}

// reportTenant sends one tenant's meter events of one day.
func (r *Reporter) reportTenant(ctx context.Context, row projections.UsageDay, customers map[string]string) error {
	customer, ok := customers[row.TenantID]
	if !ok {
		t, err := r.s.tenant(ctx, row.TenantID)
		if err != nil {
			return err
		}
		customer = t.BillingCustomer()
		customers[row.TenantID] = customer
	}
	if customer == "" {
		return nil
	}
	at := row.Day.Add(day - time.Second).Unix() // the day's last second: in its month
	for _, m := range []struct {
		name, meter string
		value       int64
	}{
		{r.cfg.Meters.TaskMinutes, string(billing.MeterTaskMinutes), row.TaskMinutes()},
		{r.cfg.Meters.Streams, string(billing.MeterStreams), row.StreamsOpened},
		{r.cfg.Meters.BytesStreamed, string(billing.MeterBytesStreamed), row.BytesStreamed},
	} {
		if m.name == "" || m.value == 0 {
			continue
		}
		_, err := r.s.sc.V1BillingMeterEvents.Create(ctx, &stripe.BillingMeterEventCreateParams{
			EventName:  stripe.String(m.name),
			Identifier: stripe.String(MeterEventID(row.TenantID, row.Day, m.meter)),
			Timestamp:  stripe.Int64(at),
			Payload:    map[string]string{"stripe_customer_id": customer, "value": strconv.FormatInt(m.value, 10)},
		})
		if err != nil {
			return fmt.Errorf("%w: meter event %s of tenant %s: %w", ErrStripe, m.meter, row.TenantID, err)
		}
	}
	return nil
}

// MeterEventID is the identifier of a tenant's meter event of a day: the
// same on every attempt, so that Stripe takes it once.
func MeterEventID(tenantID string, d time.Time, meter string) string {
	return "axontask:" + tenantID + ":" + d.Format(time.DateOnly) + ":" + meter
}
