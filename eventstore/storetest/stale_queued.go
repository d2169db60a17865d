package storetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
)

// queueTask appends the creation of the new task stream id of tenantID,
// and its queuing at at, and returns the stream and its stored events.
func queueTask(t *testing.T, s eventstore.Store, id, tenantID string, at time.Time) (eventstore.Stream, []domain.Event) {
	t.Helper()
	stream := eventstore.Stream{ID: id, Type: domain.StreamTask, TenantID: tenantID}
	return stream, appendOK(t, s, stream, 0, []domain.NewEvent{
		taskEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "task " + id, TimeoutS: 60}, at.Add(-time.Minute)),
		taskEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: 1}, at),
	})
}

// checkStale fails the test unless TaskViewsStaleQueued(before, limit) returns
// exactly want, in order, with times in UTC.
func checkStale(t *testing.T, s projections.StaleQueuedStore, what string, before time.Time, limit int, want ...eventstore.WaitingTask) {
	t.Helper()
	got, err := s.TaskViewsStaleQueued(t.Context(), before, limit)
	listOK(t, fmt.Sprintf("%s: TaskViewsStaleQueued(%s, %d)", what, before, limit), got, err)
	if !sameWaitingTasks(got, want) {
		t.Fatalf("%s: TaskViewsStaleQueued(%s, %d) =\n  %v\nwant\n  %v", what, before, limit, got, want)
	}
}

// testTaskViewsStaleQueued: the queued tasks of the task list read model,
// queued strictly before the cutoff (to the microsecond the store keeps),
// of every tenant, oldest queued first (ties in byte order of id), at
// their latest queuing; not a task that holds a lease (even an expired
// one) or is marked waiting, nor one running, finished, never queued,
// queued again recently or not yet projected. Leases dropped and marks
// undone bring tasks back; a start takes one away; a rebuild of the read
// model lists the same.
func testTaskViewsStaleQueued(t *testing.T, newStore Opener[StaleQueuedStore]) {
	s := newStore(t, eventstore.Options{})
	var feedLen int64
	streams := map[string]eventstore.Stream{}
	queue := func(id, tenantID string, at time.Time) {
		stream, stored := queueTask(t, s, id, tenantID, at)
		streams[id] = stream
		feedLen += int64(len(stored))
	}
	// appendTo appends events to a stream queue made.
	appendTo := func(id string, events ...domain.NewEvent) {
		head := readStream(t, s, id)
		feedLen += int64(len(appendOK(t, s, streams[id], int64(len(head)), events)))
	}
	requeue := func(id string, at time.Time) {
		appendTo(id,
			taskEvent(t, domain.TaskStartedType, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"}, at.Add(-time.Second)),
			taskEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: 2, Reason: "retry"}, at))
	}

	old := baseTime // nanoseconds, not UTC: kept as UTC microseconds
	cutoff := domain.NormalizeTime(baseTime.Add(time.Hour))
	queue("task-old", tenant, old)
	queue("task-older", "tenant-b", old.Add(-time.Hour)) // any tenant
	queue("task-B", tenant, old.Add(time.Minute))        // ties sort in byte order:
	queue("task-a", "tenant-b", old.Add(time.Minute))    // "B" (0x42) before "a" (0x61)
	queue("task-retried", tenant, old.Add(-3*time.Hour))
	requeue("task-retried", old.Add(2*time.Minute)) // listed at its latest queuing
	queue("task-retried-late", tenant, old.Add(-3*time.Hour))
	requeue("task-retried-late", cutoff.Add(time.Hour)) // queued again after the cutoff
	queue("task-recent", tenant, cutoff)                // strictly before the cutoff only
	queue("task-leased", tenant, old)
	if err := s.LeasePut(t.Context(), eventstore.Lease{TaskID: "task-leased", TenantID: tenant, WorkerID: "w1", Attempt: 1,
		ExpiresAt: old.Add(-time.Hour)}); err != nil { // expired: the watchdog's, not this listing's
		t.Fatalf("LeasePut: %v", err)
	}
	queue("task-waiting", tenant, old)
	mark(t, s, "task-waiting", tenant, old)
	_, running := runTask(t, s, "task-running", tenant, old, "") // started, without a lease
	_, done := runTask(t, s, "task-done", tenant, old, domain.TaskSucceededType)
	feedLen += int64(len(running) + len(done))
	created := appendOK(t, s, eventstore.Stream{ID: "task-created", Type: domain.StreamTask, TenantID: tenant}, 0,
		[]domain.NewEvent{taskEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "new", TimeoutS: 60}, old)})
	feedLen += int64(len(created))

	// Nothing is listed until the read model has applied the events.
	checkStale(t, s, "before projecting", cutoff, 0)
	project(t, s, feedLen)

	want := []eventstore.WaitingTask{
		waiting("task-older", "tenant-b", old.Add(-time.Hour)),
		waiting("task-old", tenant, old),
		waiting("task-B", tenant, old.Add(time.Minute)),
		waiting("task-a", "tenant-b", old.Add(time.Minute)),
		waiting("task-retried", tenant, old.Add(2*time.Minute)),
	}
	checkStale(t, s, "projected", cutoff, 0, want...)
	checkStale(t, s, "limit 2", cutoff, 2, want[:2]...)
	checkStale(t, s, "limit 1", cutoff, 1, want[0])
	checkStale(t, s, "the largest limit", cutoff, eventstore.MaxWaitingTasksLimit, want...)
	checkStale(t, s, "strictly before", domain.NormalizeTime(old), 0, want[0])
	checkStale(t, s, "a nanosecond later", domain.NormalizeTime(old).Add(time.Nanosecond), 0, want[:2]...)
	checkStale(t, s, "before every queuing", old.Add(-2*time.Hour), 0)
	checkStale(t, s, "past the recent task", cutoff.Add(time.Nanosecond), 0, append(want, waiting("task-recent", tenant, cutoff))...)
	checkStale(t, s, "past the latest queuing", cutoff.Add(2*time.Hour), 0,
		append(want, waiting("task-recent", tenant, cutoff), waiting("task-retried-late", tenant, cutoff.Add(time.Hour)))...)

	// Leases and marks are read as they are now.
	if err := s.LeaseDrop(t.Context(), "task-leased", 1); err != nil {
		t.Fatalf("LeaseDrop: %v", err)
	}
	unmark(t, s, "task-waiting")
	if err := s.LeasePut(t.Context(), eventstore.Lease{TaskID: "task-old", TenantID: tenant, WorkerID: "w2", Attempt: 1,
		ExpiresAt: cutoff.Add(time.Hour)}); err != nil {
		t.Fatalf("LeasePut: %v", err)
	}
	mark(t, s, "task-B", tenant, cutoff)
	want = []eventstore.WaitingTask{
		waiting("task-older", "tenant-b", old.Add(-time.Hour)),
		waiting("task-leased", tenant, old),
		waiting("task-waiting", tenant, old),
		waiting("task-a", "tenant-b", old.Add(time.Minute)),
		waiting("task-retried", tenant, old.Add(2*time.Minute)),
	}
	checkStale(t, s, "after a lease dropped, a mark undone, a lease put and a task marked", cutoff, 0, want...)

	// A task that starts leaves the listing once the read model applies it.
	appendTo("task-older", taskEvent(t, domain.TaskStartedType, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"}, cutoff))
	checkStale(t, s, "a start not yet projected", cutoff, 0, want...)
	project(t, s, feedLen)
	checkStale(t, s, "a start projected", cutoff, 0, want[1:]...)

	// The read model computes the queuing times again on a rebuild.
	rebuild(t, s, feedLen)
	checkStale(t, s, "after a rebuild", cutoff, 0, want[1:]...)

	// Not events: the listing appended nothing.
	expectFeedLen(t, s, feedLen)
}

// testTaskViewsStaleQueuedLimits: a limit <= 0 lists DefaultWaitingTasksLimit
// tasks, a larger one up to MaxWaitingTasksLimit lists that many, and one
// above it fails.
func testTaskViewsStaleQueuedLimits(t *testing.T, newStore Opener[StaleQueuedStore]) {
	s := newStore(t, eventstore.Options{MaxReadLimit: 4}) // MaxReadLimit does not bound the listing
	n := eventstore.DefaultWaitingTasksLimit + 1
	all := make([]eventstore.WaitingTask, n)
	var feedLen int64
	for i := range all {
		all[i] = waiting(fmt.Sprintf("task-%04d", i), tenant, baseTime) // one time: ordered by id
		_, stored := queueTask(t, s, all[i].TaskID, tenant, baseTime)
		feedLen += int64(len(stored))
	}
	project(t, s, feedLen)
	before := baseTime.Add(time.Hour)
	for _, tc := range []struct{ limit, want int }{
		{0, eventstore.DefaultWaitingTasksLimit},
		{-1, eventstore.DefaultWaitingTasksLimit},
		{math.MinInt, eventstore.DefaultWaitingTasksLimit},
		{1, 1},
		{n - 1, n - 1},
		{n, n},
		{eventstore.MaxWaitingTasksLimit, n},
	} {
		checkStale(t, s, fmt.Sprintf("limit %d", tc.limit), before, tc.limit, all[:tc.want]...)
	}
}

// testTaskViewsStaleQueuedValidation: invalid arguments fail with a
// *domain.ValidationError naming the argument, and return no tasks.
func testTaskViewsStaleQueuedValidation(t *testing.T, newStore Opener[StaleQueuedStore]) {
	s := newStore(t, eventstore.Options{})
	for _, tc := range []struct {
		name   string
		before time.Time
		limit  int
		field  string
	}{
		{"unset time", time.Time{}, 10, "queued_before"},
		{"time past year 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 10, "queued_before"},
		{"time before year 1 (UTC)", time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 60*60)), 10, "queued_before"},
		{"limit above max", baseTime, eventstore.MaxWaitingTasksLimit + 1, "limit"},
		{"largest limit", baseTime, math.MaxInt, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.TaskViewsStaleQueued(t.Context(), tc.before, tc.limit)
			checkValidation(t, err, tc.field)
			if got != nil {
				t.Errorf("a failed TaskViewsStaleQueued returned %v", got)
			}
		})
	}
}

// testStaleQueuedClosed: TaskViewsStaleQueued on a closed store fails with
// ErrClosed.
func testStaleQueuedClosed(t *testing.T, newStore Opener[StaleQueuedStore]) {
	s := closedStore(t, newStore)
	checkClosedCalls(t, map[string]func() error{
		"TaskViewsStaleQueued": func() error {
			_, err := s.TaskViewsStaleQueued(t.Context(), baseTime, 10)
			return err
		},
	})
}
