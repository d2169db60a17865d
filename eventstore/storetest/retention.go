package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/projections"
)

// taskEvent returns a new event of type typ whose payload is v's JSON.
func taskEvent(t *testing.T, typ domain.EventType, v any, at time.Time) domain.NewEvent {
	t.Helper()
	payload, err := domain.MarshalPayload(v)
	if err != nil {
		t.Fatalf("marshal a %s payload: %v", typ, err)
	}
	return domain.NewEvent{EventID: uuid.New(), Type: typ, Payload: payload, Metadata: domain.Metadata{Actor: "worker:w1"}, OccurredAt: at}
}

// endPayloads holds a payload of each event type that ends a task.
var endPayloads = map[domain.EventType]any{
	domain.TaskSucceededType: &domain.TaskSucceeded{ExitCode: 0, Summary: "done"},
	domain.TaskFailedType:    &domain.TaskFailed{Error: "exit status 2"},
	domain.TaskCanceledType:  &domain.TaskCanceled{Reason: "asked to"},
	domain.TaskTimedOutType:  &domain.TaskTimedOut{TimeoutS: 60},
}

// runTask appends a task's life to the new task stream id of tenantID:
// created, queued, started, two lines of output and, unless end is "", an
// event of type end (one of endPayloads) at at. It returns the stream and
// its stored events.
func runTask(t *testing.T, s eventstore.Store, id, tenantID string, at time.Time, end domain.EventType) (eventstore.Stream, []domain.Event) {
	t.Helper()
	stream := eventstore.Stream{ID: id, Type: domain.StreamTask, TenantID: tenantID}
	start := at.Add(-time.Minute)
	events := []domain.NewEvent{
		taskEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{"n":1}`), Name: "task " + id, TimeoutS: 60}, start),
		taskEvent(t, domain.TaskQueuedType, &domain.TaskQueued{Attempt: 1}, start),
		taskEvent(t, domain.TaskStartedType, &domain.TaskStarted{Attempt: 1, WorkerID: "w1"}, start.Add(time.Second)),
		taskEvent(t, domain.TaskOutputType, &domain.TaskOutput{Data: "secret line 1\n", Stream: domain.Stdout}, start.Add(2*time.Second)),
		taskEvent(t, domain.TaskOutputType, &domain.TaskOutput{Data: "secret line 2\n", Offset: 14, Stream: domain.Stdout}, start.Add(3*time.Second)),
	}
	if end != "" {
		events = append(events, taskEvent(t, end, endPayloads[end], at))
	}
	return stream, appendOK(t, s, stream, 0, events)
}

// project waits until the feed holds n events and applies those that the
// task list read model has not applied yet.
func project(t *testing.T, s TaskViewLog, n int64) {
	t.Helper()
	from, err := s.TaskViewsCheckpoint(t.Context(), projections.TaskViewsName)
	if err != nil {
		t.Fatalf("TaskViewsCheckpoint: %v", err)
	}
	feed := readFeed(t, s, n)
	if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, from, feed[from:]); err != nil {
		t.Fatalf("TaskViewsApply(from %d, %d events): %v", from, n-from, err)
	}
}

// rebuild deletes the task list read model and applies the n events of the
// feed again, as a rebuild of the read model does.
func rebuild(t *testing.T, s TaskViewLog, n int64) {
	t.Helper()
	if err := s.TaskViewsReset(t.Context(), projections.TaskViewsName); err != nil {
		t.Fatalf("TaskViewsReset: %v", err)
	}
	project(t, s, n)
}

// endedAt is when runTask ended a task at at, as the store keeps it.
func endedAt(at time.Time) time.Time { return domain.NormalizeTime(at) }

// pruneOK prunes a task and fails the test unless it pruned want events.
func pruneOK(t *testing.T, s eventstore.PruneStore, taskID string, want int) {
	t.Helper()
	n, err := s.TaskPrune(t.Context(), taskID, baseTime)
	if err != nil {
		t.Fatalf("TaskPrune(%s): %v", taskID, err)
	}
	if n != want {
		t.Fatalf("TaskPrune(%s) pruned %d events, want %d", taskID, n, want)
	}
}

// tenantsWithEnded lists and fails the test on an error.
func tenantsWithEnded(t *testing.T, s projections.EndedTaskStore, before time.Time, after string, limit int) []string {
	t.Helper()
	ids, err := s.TaskViewsTenantsWithEnded(t.Context(), before, after, limit)
	return listOK(t, fmt.Sprintf("TaskViewsTenantsWithEnded(%s, after %q, limit %d)", before, after, limit), ids, err)
}

// endedTasks lists and fails the test on an error.
func endedTasks(t *testing.T, s projections.EndedTaskStore, tenantID string, before time.Time, limit int) []string {
	t.Helper()
	ids, err := s.TaskViewsEndedOfTenant(t.Context(), tenantID, before, limit)
	return listOK(t, fmt.Sprintf("TaskViewsEndedOfTenant(%s, %s, limit %d)", tenantID, before, limit), ids, err)
}

// pruned returns events as TaskPrune leaves them: without payloads and salts.
func pruned(events []domain.Event) []domain.Event {
	out := make([]domain.Event, len(events))
	for i, e := range events {
		e.Payload, e.PayloadSalt = nil, nil
		out[i] = e
	}
	return out
}

// verifyExport checks that events, written as an export, verify with
// package integrity.
func verifyExport(t *testing.T, what string, events []domain.Event) {
	t.Helper()
	var buf []byte
	for i := range events {
		var err error
		if buf, err = events[i].AppendJSON(buf); err != nil {
			t.Fatalf("%s: export event %d: %v", what, i, err)
		}
		buf = append(buf, '\n')
	}
	sum, err := integrity.VerifyExport(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("%s: the export does not verify: %v", what, err)
	}
	if sum.Events != int64(len(events)) {
		t.Errorf("%s: the export verified %d events, want %d", what, sum.Events, len(events))
	}
}

// testTaskPrune: TaskPrune prunes every event of a finished task, however
// it ended, and only of that task; reads return the events with nil
// payloads and salts and everything else as stored, and the chain still
// verifies, in the stream, in the feed and as an export. A second prune is
// a no-op.
func testTaskPrune(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{})
	var feedLen int64
	tasks := map[domain.EventType][]domain.Event{}
	for i, end := range []domain.EventType{domain.TaskSucceededType, domain.TaskFailedType, domain.TaskCanceledType, domain.TaskTimedOutType} {
		_, stored := runTask(t, s, fmt.Sprintf("task-%d", i), tenant, baseTime.Add(time.Duration(i)*time.Hour), end)
		tasks[end] = stored
		feedLen += int64(len(stored))
	}
	kept, keptEvents := runTask(t, s, "task-kept", tenant, baseTime, domain.TaskSucceededType)
	feedLen += int64(len(keptEvents))
	project(t, s, feedLen)
	before := baseTime.Add(24 * time.Hour)
	if got := endedTasks(t, s, tenant, before, 0); len(got) != 5 {
		t.Fatalf("TaskViewsEndedOfTenant before pruning = %q, want the 5 tasks", got)
	}

	for end, stored := range tasks {
		id := stored[0].StreamID
		pruneOK(t, s, id, len(stored))
		got := readStream(t, s, id)
		checkEvents(t, fmt.Sprintf("task ended by %s, pruned", end), got, pruned(stored))
		if err := integrity.Verify(got); err != nil {
			t.Errorf("task ended by %s: the pruned stream does not verify: %v", end, err)
		}
		verifyExport(t, fmt.Sprintf("task ended by %s, pruned", end), got)
		pruneOK(t, s, id, 0) // idempotent
		checkEvents(t, fmt.Sprintf("task ended by %s, pruned twice", end), readStream(t, s, id), pruned(stored))
	}

	got := readStream(t, s, kept.ID)
	checkEvents(t, "a task not pruned", got, keptEvents)
	checkChain(t, got)
	checkIDs(t, "TaskViewsEndedOfTenant after pruning", endedTasks(t, s, tenant, before, 0), []string{kept.ID})

	// The feed holds the pruned events as they are now, and verifies.
	feed := readFeed(t, s, feedLen)
	for _, e := range feed {
		if prunedNow := e.StreamID != kept.ID; prunedNow != (e.Payload == nil && e.PayloadSalt == nil) {
			t.Errorf("feed position %d (%s seq %d): payload %q, salt %x; pruned %t", e.Position, e.StreamID, e.Seq, e.Payload, e.PayloadSalt, prunedNow)
		}
	}
	if err := integrity.Verify(feed); err != nil {
		t.Errorf("the feed does not verify after pruning: %v", err)
	}
	verifyExport(t, "the feed after pruning", feed)
}

// testTaskPruneRefused: TaskPrune refuses, with a *domain.ValidationError
// on task_id and without changing anything, a task that has not finished,
// every stream that is not a task (even one whose last event has a
// terminal type), an unknown stream and invalid arguments.
func testTaskPruneRefused(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{})
	var streams [][]domain.Event
	_, running := runTask(t, s, "task-running", tenant, baseTime, "")
	streams = append(streams, running)
	created := appendOK(t, s, eventstore.Stream{ID: "task-created", Type: domain.StreamTask, TenantID: tenant}, 0,
		[]domain.NewEvent{taskEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "new", TimeoutS: 60}, baseTime)})
	streams = append(streams, created)
	cancelAsked := eventstore.Stream{ID: "task-cancel-asked", Type: domain.StreamTask, TenantID: tenant}
	_, stored := runTask(t, s, cancelAsked.ID, tenant, baseTime, "")
	stored = append(stored, appendOK(t, s, cancelAsked, int64(len(stored)),
		[]domain.NewEvent{taskEvent(t, domain.TaskCancelRequestedType, &domain.TaskCancelRequested{Reason: "asked to"}, baseTime)})...)
	streams = append(streams, stored)
	// The store does not tie event types to stream types: a stream that is
	// not a task is refused whatever its last event.
	for _, typ := range []domain.StreamType{domain.StreamAPIKey, domain.StreamTenant, domain.StreamUser, domain.StreamSession} {
		stream := eventstore.Stream{ID: "stream-" + string(typ), Type: typ, TenantID: tenant}
		stored := appendOK(t, s, stream, 0, []domain.NewEvent{
			outputEvent(1),
			taskEvent(t, domain.TaskSucceededType, endPayloads[domain.TaskSucceededType], baseTime),
		})
		streams = append(streams, stored)
	}
	var feedLen int64
	for _, stored := range streams {
		feedLen += int64(len(stored))
	}
	project(t, s, feedLen)

	for _, stored := range streams {
		id := stored[0].StreamID
		n, err := s.TaskPrune(t.Context(), id, baseTime)
		checkValidation(t, err, "task_id")
		if n != 0 {
			t.Errorf("TaskPrune(%s) refused, yet reports %d events pruned", id, n)
		}
		checkEvents(t, "a stream TaskPrune refused", readStream(t, s, id), stored)
	}
	_, err := s.TaskPrune(t.Context(), "task-unknown", baseTime)
	checkValidation(t, err, "task_id")

	for _, tc := range []struct {
		name   string
		taskID string
		at     time.Time
		field  string
	}{
		{"empty task id", "", baseTime, "task_id"},
		{"task id with a control character", "task\n", baseTime, "task_id"},
		{"unset time", "task-running", time.Time{}, "at"},
		{"time past year 9999", "task-running", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.TaskPrune(t.Context(), tc.taskID, tc.at)
			checkValidation(t, err, tc.field)
		})
	}
}

// testTaskPruneConcurrent: concurrent prunes of one task prune each event
// once: their counts add up to the task's events.
func testTaskPruneConcurrent(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{})
	stream := eventstore.Stream{ID: "task-busy", Type: domain.StreamTask, TenantID: tenant}
	_, stored := runTask(t, s, stream.ID, tenant, baseTime, "")
	stored = append(stored, appendOK(t, s, stream, int64(len(stored)), outputEvents(10, 40))...)
	stored = append(stored, appendOK(t, s, stream, int64(len(stored)),
		[]domain.NewEvent{taskEvent(t, domain.TaskSucceededType, endPayloads[domain.TaskSucceededType], baseTime)})...)

	const callers = 8
	counts := make([]int, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			counts[i], errs[i] = s.TaskPrune(t.Context(), stream.ID, baseTime)
		}()
	}
	close(start)
	wg.Wait()
	total := 0
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("concurrent TaskPrune %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != len(stored) {
		t.Errorf("concurrent prunes pruned %d events in all (%v), want %d", total, counts, len(stored))
	}
	got := readStream(t, s, stream.ID)
	checkEvents(t, "a task pruned concurrently", got, pruned(stored))
	if err := integrity.Verify(got); err != nil {
		t.Errorf("the pruned stream does not verify: %v", err)
	}
}

// testTaskViewsEndedOfTenant: the tenants with tasks to prune and a tenant's tasks to
// prune: strictly before the cutoff (to the microsecond the store keeps),
// ended ones only, tenants in byte order and paged, tasks earliest ended
// first and limited; pruned tasks are no longer listed.
func testTaskViewsEndedOfTenant(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{})
	var feedLen int64
	run := func(id, tenantID string, hours int, end domain.EventType) time.Time {
		at := baseTime.Add(time.Duration(hours) * time.Hour)
		_, stored := runTask(t, s, id, tenantID, at, end)
		feedLen += int64(len(stored))
		return endedAt(at)
	}
	// Byte order, not a locale's: "Tenant-B" sorts before "tenant-a".
	end1 := run("task-a1", "tenant-a", 1, domain.TaskSucceededType)
	run("task-a2-b", "tenant-a", 2, domain.TaskFailedType)
	run("task-a2-B", "tenant-a", 2, domain.TaskCanceledType) // ties sort by id, in byte order
	run("task-a-running", "tenant-a", 0, "")
	run("task-a10", "tenant-a", 10, domain.TaskTimedOutType)
	run("task-b1", "Tenant-B", 3, domain.TaskSucceededType)
	run("task-c20", "tenant-c", 20, domain.TaskSucceededType) // only a recent task
	run("task-c-running", "tenant-c", 0, "")
	run("task-d1", "tenant-d", 1, domain.TaskSucceededType)
	run("task-e-running", "tenant-e", 0, "") // no ended task
	project(t, s, feedLen)

	cutoff := baseTime.Add(5 * time.Hour)
	for _, tc := range []struct {
		before time.Time
		after  string
		limit  int
		want   []string
	}{
		{cutoff, "", 0, []string{"Tenant-B", "tenant-a", "tenant-d"}},
		{cutoff, "", 2, []string{"Tenant-B", "tenant-a"}},
		{cutoff, "Tenant-B", 1, []string{"tenant-a"}},
		{cutoff, "tenant-a", 1, []string{"tenant-d"}},
		{cutoff, "tenant-b", 10, []string{"tenant-d"}}, // a cursor need not be a tenant
		{cutoff, "tenant-d", 10, []string{}},
		{baseTime.Add(100 * time.Hour), "", 0, []string{"Tenant-B", "tenant-a", "tenant-c", "tenant-d"}},
		{end1, "", 0, []string{}}, // strictly before
		{end1.Add(time.Nanosecond), "", 0, []string{"tenant-a", "tenant-d"}},
		{end1.Add(-time.Hour), "", 0, []string{}},
	} {
		checkIDs(t, fmt.Sprintf("TaskViewsTenantsWithEnded(%s, after %q, limit %d)", tc.before, tc.after, tc.limit),
			tenantsWithEnded(t, s, tc.before, tc.after, tc.limit), tc.want)
	}

	for _, tc := range []struct {
		tenantID string
		before   time.Time
		limit    int
		want     []string
	}{
		{"tenant-a", cutoff, 0, []string{"task-a1", "task-a2-B", "task-a2-b"}},
		{"tenant-a", cutoff, 2, []string{"task-a1", "task-a2-B"}},
		{"tenant-a", baseTime.Add(100 * time.Hour), 0, []string{"task-a1", "task-a2-B", "task-a2-b", "task-a10"}},
		{"tenant-a", end1, 0, []string{}},
		{"tenant-a", end1.Add(time.Nanosecond), 0, []string{"task-a1"}},
		{"Tenant-B", cutoff, 0, []string{"task-b1"}},
		{"tenant-c", cutoff, 0, []string{}},
		{"tenant-e", baseTime.Add(100 * time.Hour), 0, []string{}},
		{"tenant-unknown", cutoff, 0, []string{}},
	} {
		checkIDs(t, fmt.Sprintf("TaskViewsEndedOfTenant(%s, %s, limit %d)", tc.tenantID, tc.before, tc.limit),
			endedTasks(t, s, tc.tenantID, tc.before, tc.limit), tc.want)
	}

	// Pruned tasks are no longer listed, nor tenants left without any.
	pruneOK(t, s, "task-a1", 6)
	pruneOK(t, s, "task-b1", 6)
	checkIDs(t, "TaskViewsEndedOfTenant(tenant-a) after pruning task-a1", endedTasks(t, s, "tenant-a", cutoff, 0), []string{"task-a2-B", "task-a2-b"})
	checkIDs(t, "TaskViewsTenantsWithEnded after pruning task-b1", tenantsWithEnded(t, s, cutoff, "", 0), []string{"tenant-a", "tenant-d"})
	checkIDs(t, "TaskViewsEndedOfTenant(Tenant-B) after pruning task-b1", endedTasks(t, s, "Tenant-B", cutoff, 0), []string{})
}

// testPrunedMark: the read model's mark outlives later applies to the
// task's row, and a rebuild of the read model clears it, so the task is
// listed again and pruned again (pruning nothing).
func testPrunedMark(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{})
	before := baseTime.Add(time.Hour)
	late, lateEvents := runTask(t, s, "task-late", tenant, baseTime, domain.TaskSucceededType)
	_, doneEvents := runTask(t, s, "task-done", tenant, baseTime.Add(time.Minute), domain.TaskFailedType)
	feedLen := int64(len(lateEvents) + len(doneEvents))
	project(t, s, feedLen)
	pruneOK(t, s, "task-late", len(lateEvents))
	pruneOK(t, s, "task-done", len(doneEvents))
	checkIDs(t, "TaskViewsEndedOfTenant after pruning", endedTasks(t, s, tenant, before, 0), []string{})

	// The lifecycle forbids an event after the end, but the store does not
	// enforce it: applying one updates the row and keeps its mark.
	appendOK(t, s, late, int64(len(lateEvents)), outputEvents(1, 1))
	feedLen++
	project(t, s, feedLen)
	checkIDs(t, "TaskViewsEndedOfTenant after an event applied to a pruned task", endedTasks(t, s, tenant, before, 0), []string{})

	rebuild(t, s, feedLen)
	checkIDs(t, "TaskViewsEndedOfTenant after a rebuild", endedTasks(t, s, tenant, before, 0), []string{"task-late", "task-done"})
	checkIDs(t, "TaskViewsTenantsWithEnded after a rebuild", tenantsWithEnded(t, s, before, "", 0), []string{tenant})
	pruneOK(t, s, "task-done", 0)
	checkIDs(t, "TaskViewsEndedOfTenant after pruning again", endedTasks(t, s, tenant, before, 0), []string{"task-late"})
	// task-late's last event no longer ends it: it stays listed, refused.
	_, err := s.TaskPrune(t.Context(), "task-late", baseTime)
	checkValidation(t, err, "task_id")
}

// testRetentionLimits: a limit <= 0 lists DefaultRetentionListLimit ids,
// a larger one up to MaxRetentionListLimit lists that many, and one above
// it fails.
func testRetentionLimits(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{MaxReadLimit: 4}) // MaxReadLimit does not bound the listings
	n := projections.DefaultRetentionListLimit + 1
	tasks := make([]string, n)
	tenants := make([]string, n)
	var feedLen int64
	for i := range n {
		tasks[i] = fmt.Sprintf("task-%04d", i)
		tenants[i] = fmt.Sprintf("tenant-%04d", i)
		for _, task := range []eventstore.Stream{
			{ID: tasks[i], Type: domain.StreamTask, TenantID: tenant},
			{ID: "task-of-" + tenants[i], Type: domain.StreamTask, TenantID: tenants[i]},
		} {
			appendOK(t, s, task, 0, []domain.NewEvent{
				taskEvent(t, domain.TaskCreatedType, &domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "n", TimeoutS: 60}, baseTime),
				taskEvent(t, domain.TaskSucceededType, endPayloads[domain.TaskSucceededType], baseTime.Add(time.Duration(i)*time.Second)),
			})
			feedLen += 2
		}
	}
	project(t, s, feedLen)
	before := baseTime.Add(time.Hour)
	allTenants := append(slices.Clone(tenants), tenant) // "tenant-a" sorts after "tenant-0100"
	for _, tc := range []struct{ limit, wantTasks, wantTenants int }{
		{0, projections.DefaultRetentionListLimit, projections.DefaultRetentionListLimit},
		{-1, projections.DefaultRetentionListLimit, projections.DefaultRetentionListLimit},
		{1, 1, 1},
		{n, n, n},
		{projections.MaxRetentionListLimit, n, n + 1},
	} {
		checkIDs(t, fmt.Sprintf("TaskViewsEndedOfTenant(limit %d)", tc.limit), endedTasks(t, s, tenant, before, tc.limit), tasks[:tc.wantTasks])
		checkIDs(t, fmt.Sprintf("TaskViewsTenantsWithEnded(limit %d)", tc.limit), tenantsWithEnded(t, s, before, "", tc.limit), allTenants[:tc.wantTenants])
	}
	_, err := s.TaskViewsEndedOfTenant(t.Context(), tenant, before, projections.MaxRetentionListLimit+1)
	checkValidation(t, err, "limit")
	_, err = s.TaskViewsTenantsWithEnded(t.Context(), before, "", projections.MaxRetentionListLimit+1)
	checkValidation(t, err, "limit")
}

// testRetentionValidation: invalid arguments of the listings fail with a
// *domain.ValidationError naming the argument.
func testRetentionValidation(t *testing.T, newStore Opener[RetentionStore]) {
	s := newStore(t, eventstore.Options{})
	past9999 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		before time.Time
		after  string
		field  string
	}{
		{"unset time", time.Time{}, "", "ended_before"},
		{"time past year 9999", past9999, "", "ended_before"},
		{"cursor with a control character", baseTime, "tenant\n", "after_tenant_id"},
	} {
		t.Run("TaskViewsTenantsWithEnded/"+tc.name, func(t *testing.T) {
			_, err := s.TaskViewsTenantsWithEnded(t.Context(), tc.before, tc.after, 10)
			checkValidation(t, err, tc.field)
		})
	}
	for _, tc := range []struct {
		name     string
		tenantID string
		before   time.Time
		field    string
	}{
		{"empty tenant", "", baseTime, "tenant_id"},
		{"tenant with a control character", "tenant\n", baseTime, "tenant_id"},
		{"unset time", tenant, time.Time{}, "ended_before"},
		{"time past year 9999", tenant, past9999, "ended_before"},
	} {
		t.Run("TaskViewsEndedOfTenant/"+tc.name, func(t *testing.T) {
			_, err := s.TaskViewsEndedOfTenant(t.Context(), tc.tenantID, tc.before, 10)
			checkValidation(t, err, tc.field)
		})
	}
}

// testRetentionClosed: every method on a closed store fails with ErrClosed.
func testRetentionClosed(t *testing.T, newStore Opener[RetentionStore]) {
	s := closedStore(t, newStore)
	ctx := t.Context()
	checkClosedCalls(t, map[string]func() error{
		"TaskViewsTenantsWithEnded": func() error {
			_, err := s.TaskViewsTenantsWithEnded(ctx, baseTime, "", 10)
			return err
		},
		"TaskViewsEndedOfTenant": func() error {
			_, err := s.TaskViewsEndedOfTenant(ctx, tenant, baseTime, 10)
			return err
		},
		"TaskPrune": func() error {
			_, err := s.TaskPrune(ctx, newStream().ID, baseTime)
			return err
		},
	})
}
