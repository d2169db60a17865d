package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/projections"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type bundle struct {
	store  teststores.Store
	runner *projections.Runner
	events int64 // appended so far
}

func setup(t *testing.T, s teststores.Store) *bundle {
	t.Helper()
	r, err := projections.NewRunner(s, projections.TaskViews(s), projections.RunnerConfig{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{store: s, runner: r}
}

// task is a task to append: its events follow the lifecycle up to final.
type task struct {
	id     string
	tenant string
	name   string
	at     time.Time
	final  domain.TaskState
}

func newEvent(t *testing.T, typ domain.EventType, payload any, at time.Time) domain.NewEvent {
	t.Helper()
	b, err := domain.MarshalPayload(payload)
	if err != nil {
		t.Fatal(err)
	}
	return domain.NewEvent{EventID: uuid.New(), Type: typ, Payload: b, OccurredAt: at}
}

// add appends tk's events, one append per event, and returns the task's id.
func (b *bundle) add(t *testing.T, tk task) string {
	t.Helper()
	if tk.id == "" {
		tk.id = uuid.NewString()
	}
	samples := domain.Samples()
	evs := []domain.NewEvent{newEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: tk.name, TimeoutS: 60}, tk.at)}
	if tk.final != domain.StateCreated {
		evs = append(evs, newEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: 1}, tk.at.Add(time.Second)))
	}
	if tk.final != domain.StateCreated && tk.final != domain.StateQueued {
		evs = append(evs, newEvent(t, domain.TaskStartedType, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"}, tk.at.Add(2*time.Second)),
			newEvent(t, domain.TaskOutputType, samples[domain.TaskOutputType], tk.at.Add(3*time.Second)))
	}
	switch tk.final {
	case domain.StateSucceeded:
		evs = append(evs, newEvent(t, domain.TaskSucceededType, samples[domain.TaskSucceededType], tk.at.Add(4*time.Second)))
	case domain.StateFailed:
		evs = append(evs, newEvent(t, domain.TaskFailedType, samples[domain.TaskFailedType], tk.at.Add(4*time.Second)))
	default: // created, queued and running tasks have not ended
	}
	stream := eventstore.Stream{ID: tk.id, Type: domain.StreamTask, TenantID: tk.tenant}
	for i, e := range evs {
		if _, err := b.store.Append(t.Context(), stream, int64(i), []domain.NewEvent{e}); err != nil {
			t.Fatalf("append %s to %s: %v", e.Type, tk.id, err)
		}
	}
	b.events += int64(len(evs))
	return tk.id
}

// catchUp waits for the feed to seal every appended event and applies it.
func (b *bundle) catchUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if b.events > 0 {
		if err := b.store.WaitFeed(ctx, b.events-1); err != nil {
			t.Fatalf("wait for the feed to reach %d: %v", b.events, err)
		}
	}
	pos, err := b.runner.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pos != b.events {
		t.Fatalf("checkpoint after catch-up is %d, want %d", pos, b.events)
	}
}

func (b *bundle) list(t *testing.T, q projections.TaskQuery) []projections.TaskView {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = projections.MaxTaskListLimit
	}
	views, err := b.store.TaskViewsList(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return views
}

func ids(views []projections.TaskView) []string {
	out := make([]string, len(views))
	for i, v := range views {
		out[i] = v.TaskID
	}
	return out
}

func TestTaskViewsRows(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		done := b.add(t, task{tenant: tenantA, name: "done", at: t0, final: domain.StateSucceeded})
		running := b.add(t, task{tenant: tenantA, name: "running", at: t0.Add(time.Minute), final: domain.StateRunning})
		queued := b.add(t, task{tenant: tenantA, name: "queued", at: t0.Add(2 * time.Minute), final: domain.StateQueued})
		other := b.add(t, task{tenant: tenantB, name: "other", at: t0.Add(3 * time.Minute), final: domain.StateCreated})
		b.catchUp(t)

		got := b.list(t, projections.TaskQuery{TenantID: tenantA})
		want := []projections.TaskView{
			{TaskID: queued, TenantID: tenantA, Name: "queued", Adapter: "mock", State: domain.StateQueued, Attempt: 1,
				CreatedAt: t0.Add(2 * time.Minute), QueuedAt: t0.Add(2*time.Minute + time.Second), LastSeq: 2, LastPosition: 10},
			{TaskID: running, TenantID: tenantA, Name: "running", Adapter: "mock", State: domain.StateRunning, Attempt: 1,
				CreatedAt: t0.Add(time.Minute), QueuedAt: t0.Add(time.Minute + time.Second), StartedAt: t0.Add(time.Minute + 2*time.Second),
				LastSeq: 4, LastPosition: 8},
			{TaskID: done, TenantID: tenantA, Name: "done", Adapter: "mock", State: domain.StateSucceeded, Attempt: 1,
				CreatedAt: t0, QueuedAt: t0.Add(time.Second), StartedAt: t0.Add(2 * time.Second), EndedAt: t0.Add(4 * time.Second),
				LastSeq: 5, LastPosition: 4},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("tenant A's list:\n got %+v\nwant %+v", got, want)
		}
		if got := b.list(t, projections.TaskQuery{TenantID: tenantB}); len(got) != 1 || got[0].TaskID != other || !got[0].QueuedAt.IsZero() {
			t.Fatalf("tenant B's list is %+v, want only %s, never queued", got, other)
		}
		if got := b.list(t, projections.TaskQuery{TenantID: "tenant-c"}); len(got) != 0 {
			t.Fatalf("an unknown tenant sees %v", got)
		}
		if got := ids(b.list(t, projections.TaskQuery{TenantID: tenantA, State: domain.StateRunning})); len(got) != 1 || got[0] != running {
			t.Fatalf("running tasks of A are %v, want %s", got, running)
		}
		if got := b.list(t, projections.TaskQuery{TenantID: tenantB, State: domain.StateRunning}); len(got) != 0 {
			t.Fatalf("running tasks of B are %v, want none", got)
		}

		// A batch applied at a checkpoint that has moved fails and changes nothing.
		events, err := s.ReadFeed(t.Context(), 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		err = b.store.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, events)
		var cerr *projections.CheckpointError
		if !errors.As(err, &cerr) || !errors.Is(err, projections.ErrCheckpointMoved) || cerr.Actual != b.events || cerr.Expected != 0 {
			t.Fatalf("apply at a stale checkpoint: got %v, want a CheckpointError at %d", err, b.events)
		}
		if pos, err := b.store.TaskViewsCheckpoint(t.Context(), projections.TaskViewsName); err != nil || pos != b.events {
			t.Fatalf("checkpoint after a failed apply is %d, %v; want %d", pos, err, b.events)
		}
		if again := b.list(t, projections.TaskQuery{TenantID: tenantA}); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("a failed apply changed the rows:\n got %+v\nwant %+v", again, got)
		}

		// A rebuild gives the same rows.
		if err := b.runner.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		if again := b.list(t, projections.TaskQuery{TenantID: tenantA}); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("rows after a rebuild:\n got %+v\nwant %+v", again, got)
		}
		if pos, err := b.store.TaskViewsCheckpoint(t.Context(), projections.TaskViewsName); err != nil || pos != b.events {
			t.Fatalf("checkpoint after a rebuild is %d, %v; want %d", pos, err, b.events)
		}

		// A reset alone empties the list.
		if err := b.store.TaskViewsReset(t.Context(), projections.TaskViewsName); err != nil {
			t.Fatal(err)
		}
		if got := b.list(t, projections.TaskQuery{TenantID: tenantA}); len(got) != 0 {
			t.Fatalf("list after a reset is %v", got)
		}
	})
}

func TestTaskViewsApplyRejectsAGap(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		b.add(t, task{tenant: tenantA, name: "a", at: t0, final: domain.StateQueued})
		b.catchUp(t)
		events, err := s.ReadFeed(t.Context(), 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.TaskViewsApply(t.Context(), "other", 1, events); err == nil {
			t.Fatal("applying positions 0.. at 1 succeeded")
		}
		if pos, err := b.store.TaskViewsCheckpoint(t.Context(), "other"); err != nil || pos != 0 {
			t.Fatalf("checkpoint other is %d, %v; want 0", pos, err)
		}
	})
}

func TestTaskViewsPaginate(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		// Pairs of tasks share a creation time: the task id breaks the tie.
		for i := range 9 {
			b.add(t, task{tenant: tenantA, name: fmt.Sprint("t", i), at: t0.Add(time.Duration(i/2) * time.Minute), final: domain.StateCreated})
		}
		b.add(t, task{tenant: tenantB, name: "b", at: t0, final: domain.StateCreated})
		b.catchUp(t)

		all := ids(b.list(t, projections.TaskQuery{TenantID: tenantA}))
		if len(all) != 9 {
			t.Fatalf("tenant A has %d tasks listed, want 9", len(all))
		}
		var paged []string
		var after *projections.TaskCursor
		for range 10 {
			page := b.list(t, projections.TaskQuery{TenantID: tenantA, Limit: 2, After: after})
			paged = append(paged, ids(page)...)
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			after = &projections.TaskCursor{CreatedAt: last.CreatedAt, TaskID: last.TaskID}
		}
		if fmt.Sprint(paged) != fmt.Sprint(all) {
			t.Fatalf("pages of 2:\n got %v\nwant %v", paged, all)
		}
	})
}

// TestTaskViewsCreatedRange: CreatedAfter and CreatedBefore keep the
// tasks created strictly between them, with the state filter and across
// pages; a cursor past CreatedBefore goes on from the cursor.
func TestTaskViewsCreatedRange(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		var tasks []string // created a minute apart, the first at t0
		for i := range 5 {
			final := domain.StateQueued
			if i%2 == 1 {
				final = domain.StateSucceeded
			}
			tasks = append(tasks, b.add(t, task{tenant: tenantA, name: fmt.Sprint("t", i), at: t0.Add(time.Duration(i) * time.Minute), final: final}))
		}
		b.add(t, task{tenant: tenantB, name: "b", at: t0.Add(2 * time.Minute), final: domain.StateQueued})
		b.catchUp(t)
		minute := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
		newestFirst := func(idx ...int) []string {
			var out []string
			for _, i := range idx {
				out = append(out, tasks[i])
			}
			return out
		}
		for _, tc := range []struct {
			name string
			q    projections.TaskQuery
			want []string
		}{
			{"after", projections.TaskQuery{CreatedAfter: minute(2)}, newestFirst(4, 3)},
			{"after, to the microsecond", projections.TaskQuery{CreatedAfter: minute(2).Add(-time.Microsecond)}, newestFirst(4, 3, 2)},
			{"before", projections.TaskQuery{CreatedBefore: minute(2)}, newestFirst(1, 0)},
			{"before, to the microsecond", projections.TaskQuery{CreatedBefore: minute(2).Add(time.Microsecond)}, newestFirst(2, 1, 0)},
			{"between", projections.TaskQuery{CreatedAfter: minute(0), CreatedBefore: minute(4)}, newestFirst(3, 2, 1)},
			{"between, one state", projections.TaskQuery{State: domain.StateQueued, CreatedAfter: minute(0), CreatedBefore: minute(5)}, newestFirst(4, 2)},
			{"none between", projections.TaskQuery{CreatedAfter: minute(2), CreatedBefore: minute(3)}, nil},
			{"a cursor past before", projections.TaskQuery{CreatedBefore: minute(2), After: &projections.TaskCursor{CreatedAt: minute(4), TaskID: tasks[4]}}, newestFirst(1, 0)},
			{"before past a cursor", projections.TaskQuery{CreatedBefore: minute(4), After: &projections.TaskCursor{CreatedAt: minute(2), TaskID: tasks[2]}}, newestFirst(1, 0)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.q.TenantID = tenantA
				if got := ids(b.list(t, tc.q)); !slices.Equal(got, tc.want) {
					t.Fatalf("listed %v, want %v", got, tc.want)
				}
				// Page by page, the same tasks.
				var paged []string
				q := tc.q
				q.Limit = 1
				for range 10 {
					page := b.list(t, q)
					paged = append(paged, ids(page)...)
					if len(page) == 0 {
						break
					}
					q.After = &projections.TaskCursor{CreatedAt: page[0].CreatedAt, TaskID: page[0].TaskID}
				}
				if !slices.Equal(paged, tc.want) {
					t.Fatalf("pages of 1 listed %v, want %v", paged, tc.want)
				}
			})
		}
	})
}

func TestTaskQueryValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q     projections.TaskQuery
		field string
	}{
		{projections.TaskQuery{Limit: 1}, "tenant_id"},
		{projections.TaskQuery{TenantID: "a", Limit: 0}, "limit"},
		{projections.TaskQuery{TenantID: "a", Limit: 101}, "limit"},
		{projections.TaskQuery{TenantID: "a", Limit: 1, State: "new"}, "state"},
		{projections.TaskQuery{TenantID: "a", Limit: 1, After: &projections.TaskCursor{TaskID: "x"}}, "cursor"},
		{projections.TaskQuery{TenantID: "a", Limit: 1, CreatedAfter: t0, CreatedBefore: t0}, "created_before"},
		{projections.TaskQuery{TenantID: "a", Limit: 1, CreatedAfter: t0, CreatedBefore: t0.Add(-time.Second)}, "created_before"},
		{projections.TaskQuery{TenantID: "a", Limit: 100, State: domain.StateTimedOut, CreatedAfter: t0, CreatedBefore: t0.Add(time.Microsecond)}, ""},
	} {
		err := tc.q.Validate()
		var verr *domain.ValidationError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.q, err)
		case tc.field != "" && (!errors.As(err, &verr) || verr.Field != tc.field):
			t.Errorf("%+v: got %v, want a validation error of %s", tc.q, err, tc.field)
		}
	}
}

func TestRunnerFollowsTheFeed(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		// Two runners of one projection: each batch applies once.
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := b.runner.Run(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Run returned %v", err)
				}
			}()
		}
		defer func() { cancel(); wg.Wait() }()
		id := b.add(t, task{tenant: tenantA, name: "live", at: t0, final: domain.StateSucceeded})
		deadline := time.Now().Add(20 * time.Second)
		for {
			views := b.list(t, projections.TaskQuery{TenantID: tenantA})
			if len(views) == 1 && views[0].TaskID == id && views[0].State == domain.StateSucceeded && views[0].LastSeq == 5 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the list did not catch up: %+v", views)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestEvolveTaskViewQueuedAt: QueuedAt is the time of the latest
// task.queued event applied: a retry moves it, other events keep it, and a
// task never queued has none.
func TestEvolveTaskViewQueuedAt(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	samples := domain.Samples()
	lifecycle := []struct {
		typ     domain.EventType
		payload any
		want    time.Time
	}{
		{domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "n", TimeoutS: 60}, time.Time{}},
		{domain.TaskQueuedType, &domain.TaskQueued{Attempt: 1}, at(1)},
		{domain.TaskStartedType, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"}, at(1)},
		{domain.TaskOutputType, samples[domain.TaskOutputType], at(1)},
		{domain.TaskQueuedType, &domain.TaskQueued{Attempt: 2, Reason: "retry"}, at(4)}, // a retry
		{domain.TaskStartedType, &domain.TaskStarted{Attempt: 2, WorkerID: "w2"}, at(4)},
		{domain.TaskFailedType, samples[domain.TaskFailedType], at(4)},
	}
	var v projections.TaskView
	for i, step := range lifecycle {
		payload, err := domain.MarshalPayload(step.payload)
		if err != nil {
			t.Fatal(err)
		}
		e := domain.Event{StreamID: "task-1", StreamType: domain.StreamTask, TenantID: tenantA, Seq: int64(i + 1),
			Position: int64(i), Type: step.typ, Payload: payload, OccurredAt: at(i)}
		changed, err := projections.EvolveTaskView(&v, &e)
		if err != nil || !changed {
			t.Fatalf("event %d (%s): changed %t, %v", i+1, step.typ, changed, err)
		}
		if !v.QueuedAt.Equal(step.want) {
			t.Fatalf("after event %d (%s): QueuedAt %s, want %s", i+1, step.typ, v.QueuedAt, step.want)
		}
	}
	if v.State != domain.StateFailed || v.Attempt != 2 {
		t.Fatalf("after the lifecycle: %+v", v)
	}
}

// domain.TaskLifecycleTypes lists exactly the task events after which a
// row shows something else than before (besides its last seq and position).
func TestTaskLifecycleTypesChangeRows(t *testing.T) {
	t.Parallel()
	samples := domain.Samples()
	created, err := domain.MarshalPayload(samples[domain.TaskCreatedType])
	if err != nil {
		t.Fatal(err)
	}
	var base projections.TaskView
	first := domain.Event{StreamID: "task-1", StreamType: domain.StreamTask, TenantID: tenantA, Seq: 1, Position: 10,
		Type: domain.TaskCreatedType, Payload: created, OccurredAt: t0}
	if _, err := projections.EvolveTaskView(&base, &first); err != nil {
		t.Fatal(err)
	}
	for _, typ := range domain.KnownTypes() {
		if !strings.HasPrefix(string(typ), "task.") {
			continue
		}
		payload, err := domain.MarshalPayload(samples[typ])
		if err != nil {
			t.Fatal(err)
		}
		v := base
		e := domain.Event{StreamID: "task-1", StreamType: domain.StreamTask, TenantID: tenantA, Seq: 2, Position: 11,
			Type: typ, Payload: payload, OccurredAt: t0.Add(time.Minute)}
		if applied, err := projections.EvolveTaskView(&v, &e); err != nil || !applied {
			t.Fatalf("%s: applied %v, %v", typ, applied, err)
		}
		v.LastSeq, v.LastPosition = base.LastSeq, base.LastPosition
		if shows, listed := v != base, slices.Contains(domain.TaskLifecycleTypes, typ); shows != listed {
			t.Errorf("%s changes what a row shows: %v; in domain.TaskLifecycleTypes: %v", typ, shows, listed)
		}
	}
}
