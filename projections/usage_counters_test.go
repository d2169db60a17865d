package projections_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/usage"
)

// run is a task to append for the usage counters: its attempts, each a
// start and an end after the durations given, and the output it writes.
type run struct {
	tenant   string
	at       time.Time
	attempts []time.Duration // each attempt's time; all but the last end with task.lease_lost
	// retried: all but the last attempt fail instead (task.attempt_failed)
	// and the next waits five minutes for its backoff.
	retried bool
	output  []string
}

// addRun appends r's events.
func (b *bundle) addRun(t *testing.T, r run) {
	t.Helper()
	at := r.at
	evs := []domain.NewEvent{
		newEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "metered", TimeoutS: 3600}, at),
	}
	for i, d := range r.attempts {
		evs = append(evs, newEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: i + 1}, at),
			newEvent(t, domain.TaskStartedType, &domain.TaskStarted{Attempt: i + 1, WorkerID: "w1"}, at))
		if i == len(r.attempts)-1 {
			for j, data := range r.output {
				evs = append(evs, newEvent(t, domain.TaskOutputType, &domain.TaskOutput{Data: data, Offset: int64(j), Stream: domain.Stdout}, at))
			}
		}
		at = at.Add(d)
		switch {
		case i < len(r.attempts)-1 && r.retried:
			evs = append(evs, newEvent(t, domain.TaskAttemptFailedType, &domain.TaskAttemptFailed{Attempt: i + 1, Error: "exit status 1", WorkerID: "w1"}, at))
			at = at.Add(5 * time.Minute)
		case i < len(r.attempts)-1:
			evs = append(evs, newEvent(t, domain.TaskLeaseLostType, &domain.TaskLeaseLost{Attempt: i + 1, WorkerID: "w1"}, at))
		default:
			evs = append(evs, newEvent(t, domain.TaskSucceededType, &domain.TaskSucceeded{}, at))
		}
	}
	stream := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: r.tenant}
	// Two appends, so that a batch of the runner may hold a start whose
	// end comes in a later batch.
	half := len(evs) / 2
	if _, err := b.store.Append(t.Context(), stream, 0, evs[:half]); err != nil {
		t.Fatalf("append to %s: %v", stream.ID, err)
	}
	if _, err := b.store.Append(t.Context(), stream, int64(half), evs[half:]); err != nil {
		t.Fatalf("append to %s: %v", stream.ID, err)
	}
	b.events += int64(len(evs))
}

// TestUsageCounters appends tasks of known durations and output and
// read-side counts flushed by meters, and checks the counters per day and
// over a range on both engines, before and after a rebuild.
func TestUsageCounters(t *testing.T) {
	t.Parallel()
	day1 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		r, err := projections.NewRunner(s, s.UsageCounters(), projections.RunnerConfig{Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		b := &bundle{store: s, runner: r}
		b.addRun(t, run{tenant: tenantA, at: day1.Add(10 * time.Hour), attempts: []time.Duration{90 * time.Second}, output: []string{"hello\n", "wörld\n"}})
		b.addRun(t, run{tenant: tenantA, at: day1.Add(11 * time.Hour), attempts: []time.Duration{30 * time.Second}})
		b.addRun(t, run{tenant: tenantA, at: day1.Add(12 * time.Hour), attempts: []time.Duration{45500 * time.Millisecond}})
		// A worker died 20 s into the first attempt; the second ran 10 s.
		b.addRun(t, run{tenant: tenantA, at: day1.Add(13 * time.Hour), attempts: []time.Duration{20 * time.Second, 10 * time.Second}})
		// A retry policy: the first attempt failed after 20 s, the second
		// ran 10 s after a backoff of five minutes, which is not billed.
		b.addRun(t, run{tenant: tenantA, at: day1.Add(14 * time.Hour), attempts: []time.Duration{20 * time.Second, 10 * time.Second}, retried: true})
		// Across midnight: the task counts as started on the day it was
		// created, its attempt's time on the day it ended.
		b.addRun(t, run{tenant: tenantA, at: day2.Add(-30 * time.Second), attempts: []time.Duration{time.Minute}})
		b.addRun(t, run{tenant: tenantB, at: day1.Add(10 * time.Hour), attempts: []time.Duration{time.Hour}})

		now := day2.Add(8 * time.Hour)
		m, err := usage.NewMeter(usage.Config{Store: s, NowFunc: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		a := m.Tenant(tenantA)
		for range 3 {
			a.StreamOpened()
		}
		a.BytesSent(1000)
		a.BytesSent(24)
		a.MCPCall()
		m.Tenant(tenantB).StreamOpened()
		m.Tenant(tenantB).BytesSent(10)
		flush(t, m)
		a.MCPCall()
		flush(t, m)
		flush(t, m) // nothing to flush: no event
		b.events += 3
		b.catchUp(t)

		want := map[string][]projections.UsageDay{
			tenantA: {
				{TenantID: tenantA, Day: day1, UsageCounts: projections.UsageCounts{TaskRunMS: 225_500, TasksStarted: 6, OutputBytes: 13}},
				{TenantID: tenantA, Day: day2, UsageCounts: projections.UsageCounts{TaskRunMS: 60_000, StreamsOpened: 3, BytesStreamed: 1024, MCPCalls: 2}},
			},
			tenantB: {
				{TenantID: tenantB, Day: day1, UsageCounts: projections.UsageCounts{TaskRunMS: 3_600_000, TasksStarted: 1}},
				{TenantID: tenantB, Day: day2, UsageCounts: projections.UsageCounts{StreamsOpened: 1, BytesStreamed: 10}},
			},
		}
		check := func(t *testing.T) {
			t.Helper()
			for tenant, days := range want {
				got := readUsage(t, s, tenant, day1, day2)
				if len(got) != len(days) {
					t.Fatalf("tenant %s: %d days, want %d: %+v", tenant, len(got), len(days), got)
				}
				for i := range days {
					if got[i] != days[i] {
						t.Errorf("tenant %s day %d:\n got %+v\nwant %+v", tenant, i, got[i], days[i])
					}
				}
			}
			if got := projections.SumUsage(readUsage(t, s, tenantA, day1, day2)).TaskMinutes(); got != 5 { // 285.5 s
				t.Errorf("tenant A's task-minutes = %d, want 5", got)
			}
			if got := readUsage(t, s, tenantA, day2, day2); len(got) != 1 || got[0].Day != day2 {
				t.Errorf("one day's range = %+v, want day 2 only", got)
			}
		}
		check(t)
		if err := r.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
}

func flush(t *testing.T, m *usage.Meter) {
	t.Helper()
	if err := m.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func readUsage(t *testing.T, s teststores.Store, tenant string, first, last time.Time) []projections.UsageDay {
	t.Helper()
	days, err := s.UsageCountersRead(t.Context(), tenant, first, last)
	if err != nil {
		t.Fatal(err)
	}
	return days
}

func TestUsageRangeValidation(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name        string
		tenant      string
		first, last time.Time
		field       string
	}{
		{"no tenant", "", d, d, "tenant_id"},
		{"not midnight", tenantA, d.Add(time.Hour), d.Add(time.Hour), "from"},
		{"reversed", tenantA, d, d.AddDate(0, 0, -1), "to"},
		{"too long", tenantA, d, d.AddDate(0, 0, projections.MaxUsageDays), "to"},
	} {
		err := projections.ValidateUsageRange(c.tenant, c.first, c.last)
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("%s: %v, want a validation error on %s", c.name, err, c.field)
		}
	}
	if err := projections.ValidateUsageRange(tenantA, d, d.AddDate(0, 0, projections.MaxUsageDays-1)); err != nil {
		t.Errorf("the longest range: %v", err)
	}
}
