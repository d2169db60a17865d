package commands_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/plans"
)

// batchStart returns a StartTasks handler on s whose clock reads now; with
// tasksPerDay above 0, tenants are on a trial plan of that many tasks a day.
func batchStart(t *testing.T, s teststores.Store, tasksPerDay int) *commands.StartTasksHandler {
	t.Helper()
	cfg := commands.StartTaskConfig{NowFunc: func() time.Time { return now }}
	if tasksPerDay > 0 {
		env := map[string]string{"PLAN_TRIAL_TASKS_PER_DAY": strconv.Itoa(tasksPerDay)}
		catalog, err := plans.FromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		cfg.Quotas = commands.NewQuotas(s, catalog, func() time.Time { return now })
	}
	h, err := commands.NewStartTasksHandler(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// mockBatch returns a StartTasks of n mock tasks of tenantID, named t0, t1, ….
func mockBatch(tenantID string, n int) commands.StartTasks {
	cmd := commands.StartTasks{TenantID: tenantID, Meta: meta, Tasks: make([]commands.StartTask, n)}
	for i := range cmd.Tasks {
		cmd.Tasks[i] = commands.StartTask{Name: "t" + strconv.Itoa(i), Adapter: domain.AdapterMock, Args: json.RawMessage(`{"steps":1}`)}
	}
	return cmd
}

// thenTaskStreams fails unless the feed holds the events of exactly want
// tasks of tenantID.
func thenTaskStreams(t *testing.T, s teststores.Store, tenantID string, want int) {
	t.Helper()
	if n := len(teststores.TaskStreams(t, s, tenantID)); n != want {
		t.Fatalf("tenant %s has %d tasks in the feed, want %d", tenantID, n, want)
	}
}

// checkBatchTaskError fails unless err is a *BatchTaskError of the task at
// index matching target (errors.Is), and returns it.
func checkBatchTaskError(t *testing.T, err error, index int) *commands.BatchTaskError {
	t.Helper()
	var be *commands.BatchTaskError
	if !errors.As(err, &be) || be.Index != index {
		t.Fatalf("got %v, want a *BatchTaskError of tasks[%d]", err, index)
	}
	if !strings.HasPrefix(err.Error(), "tasks["+strconv.Itoa(index)+"]: ") {
		t.Errorf("error %q does not start with its task", err)
	}
	return be
}

// TestStartTasks: given an empty store, when a batch is started, then each
// task's stream holds task.created and task.queued as a single start's,
// with the batch's tenant and metadata, the results in the batch's order.
func TestStartTasks(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		h := batchStart(t, b.store, 0)
		cmd := mockBatch(tenant, 3)
		cmd.Tasks[1] = commands.StartTask{TenantID: "ignored", Meta: domain.Metadata{Actor: "ignored"}, Name: "sh", Adapter: domain.AdapterShell,
			Args: json.RawMessage(`{"command":["true"]}`), TimeoutS: 30, OnInterrupt: domain.OnInterruptFail}
		res, err := h.Handle(t.Context(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Tasks) != 3 {
			t.Fatalf("%d results for 3 tasks", len(res.Tasks))
		}
		for i, r := range res.Tasks {
			_, events := thenStream(t, b.store, r.TaskID, domain.TaskCreatedType, domain.TaskQueuedType)
			checkSameEvents(t, "task "+strconv.Itoa(i), events, r.Events)
			created, err := domain.Decode(events[0].Type, events[0].Payload)
			if err != nil {
				t.Fatal(err)
			}
			if name := created.(*domain.TaskCreated).Name; name != cmd.Tasks[i].Name || r.LastSeq != 2 {
				t.Errorf("result %d is task %q at seq %d, want %q at 2", i, name, r.LastSeq, cmd.Tasks[i].Name)
			}
			for _, e := range events {
				if e.TenantID != tenant || e.Metadata != meta {
					t.Errorf("task %d: %s of tenant %s with %+v, want the batch's %s and %+v", i, e.Type, e.TenantID, e.Metadata, tenant, meta)
				}
			}
		}
		if want := `{"adapter":"shell","args":{"command":["true"]},"name":"sh","on_interrupt":"fail","timeout_s":30}`; string(res.Tasks[1].Events[0].Payload) != want {
			t.Errorf("task 1's task.created is %s, want %s", res.Tasks[1].Events[0].Payload, want)
		}
		thenTaskStreams(t, b.store, tenant, 3)
		thenTaskStreams(t, b.store, "ignored", 0)
	})
}

// TestStartTasksRejects: a batch with an invalid task, a task's key twice,
// no tasks or too many fails whole and stores nothing; the error names the
// task and its field.
func TestStartTasksRejects(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		h := batchStart(t, b.store, 0)
		cmd := mockBatch(tenant, 5)
		cmd.Tasks[3].Args = json.RawMessage(`{"steps":-1}`)
		_, err := h.Handle(t.Context(), cmd)
		checkValidation(t, checkBatchTaskError(t, err, 3).Err, "args.steps")

		cmd = mockBatch(tenant, 5)
		cmd.Tasks[4].Name = ""
		_, err = h.Handle(t.Context(), cmd)
		checkValidation(t, checkBatchTaskError(t, err, 4), "name")

		cmd = mockBatch(tenant, 3)
		cmd.Tasks[0].CommandID, cmd.Tasks[2].CommandID = "same", "same"
		_, err = h.Handle(t.Context(), cmd)
		be := checkBatchTaskError(t, err, 2)
		checkValidation(t, be, "command_id")
		if !be.OwnCommandID || !strings.Contains(err.Error(), "tasks[0]") {
			t.Errorf("a key twice: %v (own key %t); want it to name tasks[0], the first", err, be.OwnCommandID)
		}

		cmd = mockBatch(tenant, 2)
		cmd.Tasks[1].CommandID = "bad\n"
		_, err = h.Handle(t.Context(), cmd)
		checkValidation(t, checkBatchTaskError(t, err, 1), "command_id")

		for _, n := range []int{0, commands.MaxBatchTasks + 1} {
			_, err = h.Handle(t.Context(), mockBatch(tenant, n))
			checkValidation(t, err, "tasks")
		}
		cmd = mockBatch(tenant, 1)
		cmd.CommandID = "bad\x00"
		_, err = h.Handle(t.Context(), cmd)
		checkValidation(t, err, "command_id")
		_, err = h.Handle(t.Context(), mockBatch("", 1))
		checkValidation(t, err, "tenant_id")

		thenTaskStreams(t, b.store, tenant, 0)
	})
}

// TestStartTasksRepeated: a batch sent again with its key starts nothing
// new and answers the first one's tasks; a task's own key finds the task
// that a single start with that key started; a key with other tasks, or a
// batch of which only some tasks exist, fails whole.
func TestStartTasksRepeated(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		h := batchStart(t, b.store, 0)
		cmd := mockBatch(tenant, 3)
		cmd.CommandID = "batch-1"
		first, err := h.Handle(t.Context(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.Handle(t.Context(), cmd)
		if err != nil {
			t.Fatalf("the batch again: %v", err)
		}
		for i := range first.Tasks {
			if again.Tasks[i].TaskID != first.Tasks[i].TaskID {
				t.Errorf("the batch again answered task %s at %d, want the first one's %s", again.Tasks[i].TaskID, i, first.Tasks[i].TaskID)
			}
			checkSameEvents(t, "the batch again", again.Tasks[i].Events, first.Tasks[i].Events)
		}
		thenTaskStreams(t, b.store, tenant, 3)

		other := mockBatch(tenant, 3)
		other.CommandID = "batch-1"
		other.Tasks[1].Name = "another"
		_, err = h.Handle(t.Context(), other)
		if be := checkBatchTaskError(t, err, 1); be.OwnCommandID || !errors.Is(err, commands.ErrCommandIDReused) {
			t.Errorf("the batch's key with another task: %v, want ErrCommandIDReused of a derived key", err)
		}

		// Another tenant's batch of the same key is a batch of its own.
		theirs := mockBatch(otherTenant, 3)
		theirs.CommandID = "batch-1"
		if res, err := h.Handle(t.Context(), theirs); err != nil || res.Tasks[0].TaskID == first.Tasks[0].TaskID {
			t.Fatalf("another tenant with the same key: %v; want tasks of its own", err)
		}

		// A task's own key is a single start's Idempotency-Key.
		single := mockStart(tenant)
		single.CommandID = "item-7"
		alone, err := b.start.Handle(t.Context(), single)
		if err != nil {
			t.Fatal(err)
		}
		cmd = commands.StartTasks{TenantID: tenant, Meta: meta, Tasks: []commands.StartTask{single}}
		res, err := h.Handle(t.Context(), cmd)
		if err != nil || res.Tasks[0].TaskID != alone.TaskID {
			t.Fatalf("a batch of a started task's key: %v; want task %s", err, alone.TaskID)
		}
		// Some tasks started before, others not: nothing starts.
		cmd.Tasks = append(cmd.Tasks, mockBatch(tenant, 1).Tasks[0])
		_, err = h.Handle(t.Context(), cmd)
		checkBatchTaskError(t, err, 0)
		thenTaskStreams(t, b.store, tenant, 4)
	})
}

// TestStartTasksQuota: a batch counts each of its tasks against the daily
// cap, all at once: one that would pass it is refused whole, saying how
// many fit; a refused or failed batch and a repeated one count nothing.
func TestStartTasksQuota(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		h := batchStart(t, b.store, 5)
		used := func(want int) {
			t.Helper()
			if n, err := b.store.TaskStartCount(t.Context(), tenant, now); err != nil || n != want {
				t.Fatalf("starts counted today: %d, %v; want %d", n, err, want)
			}
		}
		_, err := h.Handle(t.Context(), mockBatch(tenant, 6))
		var q *commands.QuotaExceededError
		if !errors.As(err, &q) || q.Limit != 5 || q.Used != 0 || q.Requested != 6 || q.Fit() != 5 || !strings.Contains(err.Error(), "5 more fit") {
			t.Fatalf("a batch of 6 under a cap of 5: %v (%+v)", err, q)
		}
		used(0)
		cmd := mockBatch(tenant, 3)
		cmd.CommandID = "b"
		if _, err := h.Handle(t.Context(), cmd); err != nil {
			t.Fatal(err)
		}
		used(3)
		if _, err := h.Handle(t.Context(), cmd); err != nil {
			t.Fatalf("the batch again: %v", err)
		}
		used(3)
		invalid := mockBatch(tenant, 2)
		invalid.Tasks[1].Adapter = ""
		_, err = h.Handle(t.Context(), invalid)
		checkBatchTaskError(t, err, 1)
		// Fails at the append (its task 0 exists, task 1 not): given back.
		single := commands.StartTask{TenantID: tenant, Name: "x", Adapter: domain.AdapterMock, CommandID: "k"}
		if _, err := b.start.Handle(t.Context(), single); err != nil {
			t.Fatal(err)
		}
		partial := commands.StartTasks{TenantID: tenant, Tasks: []commands.StartTask{single, mockBatch(tenant, 1).Tasks[0]}}
		_, err = h.Handle(t.Context(), partial)
		checkBatchTaskError(t, err, 0)
		used(3)
		_, err = h.Handle(t.Context(), mockBatch(tenant, 3))
		if !errors.As(err, &q) || q.Used != 3 || q.Fit() != 2 {
			t.Fatalf("a batch of 3 with 2 left: %v (%+v)", err, q)
		}
		if _, err := h.Handle(t.Context(), mockBatch(tenant, 2)); err != nil {
			t.Fatalf("a batch of the 2 left: %v", err)
		}
		used(5)
		if _, err := h.Handle(t.Context(), mockBatch(otherTenant, 5)); err != nil {
			t.Fatalf("another tenant: %v", err)
		}
	})
}
