package projections

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/axontask/axontask/domain"
)

// UsageCountersName is the checkpoint name of the usage counters read
// model. It is stored in databases and must never change: a new name
// rebuilds from zero.
const UsageCountersName = "usage_counters"

// MaxUsageDays bounds the days one UsageCountersRead returns (a year and a
// day, so that any month and any year of days fits).
const MaxUsageDays = 367

// UsageCounts are a tenant's metered quantities over some UTC days.
type UsageCounts struct {
	// TaskRunMS is the time tasks ran, in milliseconds: from each
	// task.started to the attempt's end (its terminal event, or the
	// task.lease_lost that the watchdog appends for a dead worker),
	// counted on the UTC day the attempt ended.
	TaskRunMS int64
	// TasksStarted counts task.created: the tasks the tenant started.
	TasksStarted int64
	// StreamsOpened, BytesStreamed and MCPCalls are the read-side counts
	// that API processes flush as usage.recorded events.
	StreamsOpened int64
	BytesStreamed int64
	MCPCalls      int64
	// OutputBytes is the bytes of the tasks' output events (the data of
	// task.output; an output payload pruned before the read model saw it
	// counts 0).
	OutputBytes int64
}

// Add adds o to c.
func (c *UsageCounts) Add(o UsageCounts) {
	c.TaskRunMS += o.TaskRunMS
	c.TasksStarted += o.TasksStarted
	c.StreamsOpened += o.StreamsOpened
	c.BytesStreamed += o.BytesStreamed
	c.MCPCalls += o.MCPCalls
	c.OutputBytes += o.OutputBytes
}

// TaskMinutes is TaskRunMS in whole minutes, a started minute counting as
// one: the task-minutes meter.
func (c UsageCounts) TaskMinutes() int64 {
	return (c.TaskRunMS + time.Minute.Milliseconds() - 1) / time.Minute.Milliseconds()
}

// UsageDay is one row of the read model: a tenant's counts of one UTC day.
type UsageDay struct {
	TenantID string
	// Day is midnight UTC of the day.
	Day time.Time
	UsageCounts
}

// UsageRun is a task attempt that has started and not ended yet, as the
// read model remembers it to count the attempt's time when it ends.
type UsageRun struct {
	TaskID    string
	TenantID  string
	StartedAt time.Time
}

// UsageChanges is what a batch of events changes in the read model.
type UsageChanges struct {
	// Days are the counts to add, one per tenant and day, in the order
	// they first appear.
	Days []UsageDay
	// Started are the runs to store (a task's run replaces the one stored).
	Started []UsageRun
	// Ended are the task ids whose stored run is to be deleted.
	Ended []string
}

// UsageStore reads the usage counters read model (see UsageCountersName),
// which the event stores keep in their own database. Both engines' stores
// implement it; eventstore/storetest.RunUsage is its conformance suite.
type UsageStore interface {
	// UsageCountersRead returns tenantID's rows of the UTC days from first
	// to last (both midnight UTC, first not after last, at most
	// MaxUsageDays days), in day order; a day without usage has no row.
	// Invalid arguments fail with a *domain.ValidationError.
	UsageCountersRead(ctx context.Context, tenantID string, first, last time.Time) ([]UsageDay, error)
	// UsageCountersOfDay returns every tenant's row of the UTC day day
	// (midnight UTC), in byte order of tenant id, strictly after
	// afterTenantID ("" for the first page), at most limit rows (1 to
	// MaxUsageDayRows). Invalid arguments fail with a
	// *domain.ValidationError.
	UsageCountersOfDay(ctx context.Context, day time.Time, afterTenantID string, limit int) ([]UsageDay, error)
}

// MaxUsageDayRows bounds UsageCountersOfDay's limit.
const MaxUsageDayRows = 1000

// ValidateUsageDay checks the arguments of UsageCountersOfDay.
func ValidateUsageDay(day time.Time, limit int) error {
	switch {
	case !isMidnightUTC(day):
		return &domain.ValidationError{Field: "day", Reason: "must be a UTC day (midnight UTC)"}
	case limit < 1 || limit > MaxUsageDayRows:
		return &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be between 1 and %d", limit, MaxUsageDayRows)}
	}
	return nil
}

// ValidateUsageRange checks the arguments of UsageCountersRead.
func ValidateUsageRange(tenantID string, first, last time.Time) error {
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return err
	}
	switch {
	case !isMidnightUTC(first):
		return &domain.ValidationError{Field: "from", Reason: "must be a UTC day (midnight UTC)"}
	case !isMidnightUTC(last):
		return &domain.ValidationError{Field: "to", Reason: "must be a UTC day (midnight UTC)"}
	case last.Before(first):
		return &domain.ValidationError{Field: "to", Reason: "is before from; give a range whose last day is not before its first"}
	case last.Sub(first) >= MaxUsageDays*24*time.Hour:
		return &domain.ValidationError{Field: "to", Reason: fmt.Sprintf("is more than %d days after from; ask for a shorter range", MaxUsageDays)}
	}
	return nil
}

func isMidnightUTC(t time.Time) bool {
	return t.Location() == time.UTC && t.Equal(DayOf(t)) && t.Year() >= 1 && t.Year() <= 9999
}

// DayOf returns midnight UTC of t's UTC day.
func DayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// MonthOf returns the first and the last UTC day of t's UTC month, as
// DayOf gives days.
func MonthOf(t time.Time) (first, last time.Time) {
	first = DayOf(t).AddDate(0, 0, 1-t.UTC().Day())
	return first, first.AddDate(0, 1, -1)
}

// SumUsage adds the counts of days.
func SumUsage(days []UsageDay) UsageCounts {
	var c UsageCounts
	for _, d := range days {
		c.Add(d.UsageCounts)
	}
	return c
}

// UsageRunIDs returns the ids of the tasks whose stored run a batch may
// read: those of its task.started, task.lease_lost and terminal events,
// each once, in the order they first appear.
func UsageRunIDs(events []domain.Event) []string {
	var ids []string
	for i := range events {
		e := &events[i]
		if e.StreamType == domain.StreamTask && endsOrStartsRun(e.Type) && !slices.Contains(ids, e.StreamID) {
			ids = append(ids, e.StreamID)
		}
	}
	return ids
}

// endsOrStartsRun reports whether an event of type t starts an attempt's
// run or ends it: a start; a lost lease, a failed attempt that will be
// retried, or the task's end.
func endsOrStartsRun(t domain.EventType) bool {
	return t == domain.TaskStartedType || t == domain.TaskLeaseLostType || t == domain.TaskAttemptFailedType || t.Terminal()
}

// FoldUsage returns what events change in the read model, given the runs
// stored for their tasks (runs, by task id; a task without one is absent;
// it is not modified). It is pure: the read model depends on the events
// only, so a rebuild from the log gives the same counts.
func FoldUsage(runs map[string]UsageRun, events []domain.Event) (UsageChanges, error) {
	f := usageFold{runs: make(map[string]UsageRun), days: make(map[dayKey]int)}
	for id, r := range runs {
		f.runs[id] = r
	}
	for i := range events {
		if err := f.apply(&events[i]); err != nil {
			return UsageChanges{}, err
		}
	}
	return f.changes(runs), nil
}

type dayKey struct {
	tenant string
	day    time.Time
}

// usageFold accumulates the changes of a batch.
type usageFold struct {
	runs    map[string]UsageRun // the runs as of the event being applied
	touched []string            // task ids whose run changed, in order
	days    map[dayKey]int      // index in out
	out     []UsageDay
}

func (f *usageFold) add(tenantID string, at time.Time, c UsageCounts) {
	k := dayKey{tenantID, DayOf(at)}
	i, ok := f.days[k]
	if !ok {
		i = len(f.out)
		f.days[k] = i
		f.out = append(f.out, UsageDay{TenantID: tenantID, Day: k.day})
	}
	f.out[i].Add(c)
}

func (f *usageFold) touch(taskID string) {
	if !slices.Contains(f.touched, taskID) {
		f.touched = append(f.touched, taskID)
	}
}

func (f *usageFold) apply(e *domain.Event) error {
	switch {
	case e.Type == domain.TaskCreatedType:
		f.add(e.TenantID, e.OccurredAt, UsageCounts{TasksStarted: 1})
	case e.Type == domain.TaskStartedType:
		f.runs[e.StreamID] = UsageRun{TaskID: e.StreamID, TenantID: e.TenantID, StartedAt: e.OccurredAt}
		f.touch(e.StreamID)
	case e.StreamType == domain.StreamTask && endsOrStartsRun(e.Type):
		if r, ok := f.runs[e.StreamID]; ok {
			f.add(e.TenantID, e.OccurredAt, UsageCounts{TaskRunMS: max(0, e.OccurredAt.Sub(r.StartedAt).Milliseconds())})
			delete(f.runs, e.StreamID)
			f.touch(e.StreamID)
		}
	case e.Type == domain.TaskOutputType && e.Payload != nil:
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			return fmt.Errorf("usage of task %s: event %d: %w", e.StreamID, e.Seq, err)
		}
		f.add(e.TenantID, e.OccurredAt, UsageCounts{OutputBytes: int64(len(p.(*domain.TaskOutput).Data))})
	case e.Type == domain.UsageRecordedType && e.Payload != nil:
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			return fmt.Errorf("usage stream %s: event %d: %w", e.StreamID, e.Seq, err)
		}
		u := p.(*domain.UsageRecorded)
		f.add(e.TenantID, e.OccurredAt, UsageCounts{StreamsOpened: u.StreamsOpened, BytesStreamed: u.BytesStreamed, MCPCalls: u.MCPCalls})
	}
	return nil
}

// changes returns the batch's changes; stored is the runs stored before it.
func (f *usageFold) changes(stored map[string]UsageRun) UsageChanges {
	c := UsageChanges{Days: f.out}
	for _, id := range f.touched { // a touched task's run ended unless it is open
		if r, open := f.runs[id]; open {
			c.Started = append(c.Started, r)
		} else if _, ok := stored[id]; ok {
			c.Ended = append(c.Ended, id)
		}
	}
	return c
}
