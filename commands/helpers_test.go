package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// The handlers' clock stands still at now: not UTC and with nanoseconds,
// which the store keeps as microseconds in UTC.
var now = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC-3", -3*60*60))

const (
	tenant      = "tenant-a"
	otherTenant = "tenant-b"
)

// meta is the metadata of the tests' commands.
var meta = domain.Metadata{Actor: "key:k1", RequestID: "req-42", CorrelationID: "corr-7"}

// forEachStore runs test as a parallel subtest against each store
// implementation, each time on a fresh store opened with opts.
func forEachStore(t *testing.T, opts eventstore.Options, test func(t *testing.T, b *testBundle)) {
	t.Helper()
	teststores.ForEach(t, opts, func(t *testing.T, s teststores.Store) { test(t, setup(t, s)) })
}

// testBundle holds a store and handlers on it whose clock reads now.
type testBundle struct {
	store  teststores.Store
	start  *commands.StartTaskHandler
	cancel *commands.CancelTaskHandler

	mu    sync.Mutex
	holds []string // the cancel handler's HoldOutput calls: "task id/tenant id"
}

func setup(t *testing.T, s teststores.Store) *testBundle {
	t.Helper()
	clock := func() time.Time { return now }
	b := &testBundle{store: s}
	start, err := commands.NewStartTaskHandler(s, commands.StartTaskConfig{NowFunc: clock})
	if err != nil {
		t.Fatal(err)
	}
	cancel, err := commands.NewCancelTaskHandler(s, commands.CancelTaskConfig{NowFunc: clock, HoldOutput: b.holdOutput})
	if err != nil {
		t.Fatal(err)
	}
	b.start, b.cancel = start, cancel
	return b
}

// holdOutput records a call of the cancel handler's HoldOutput.
func (b *testBundle) holdOutput(_ context.Context, taskID uuid.UUID, tenantID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holds = append(b.holds, taskID.String()+"/"+tenantID)
}

// thenHolds checks the HoldOutput calls of the cancel handler so far.
func (b *testBundle) thenHolds(t *testing.T, want ...string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !slices.Equal(b.holds, want) {
		t.Errorf("the cancel handler asked workers to hold the output of %q, want %q", b.holds, want)
	}
}

// mockStart returns a valid StartTask of a mock task for tenant.
func mockStart(tenantID string) commands.StartTask {
	return commands.StartTask{
		TenantID: tenantID,
		Name:     "demo",
		Adapter:  domain.AdapterMock,
		Args:     json.RawMessage(`{"steps":3}`),
		TimeoutS: 600,
		Meta:     meta,
	}
}

// givenQueuedTask starts a mock task of tenantID and returns its id.
func (b *testBundle) givenQueuedTask(t *testing.T, tenantID string) uuid.UUID {
	t.Helper()
	res, err := b.start.Handle(t.Context(), mockStart(tenantID))
	if err != nil {
		t.Fatalf("given a queued task: start: %v", err)
	}
	return res.TaskID
}

// givenRunningTask starts a mock task of tenantID and lets worker-1 claim it.
func (b *testBundle) givenRunningTask(t *testing.T, tenantID string) uuid.UUID {
	t.Helper()
	id := b.givenQueuedTask(t, tenantID)
	b.given(t, id, tenantID, &domain.TaskStarted{Attempt: 1, WorkerID: "worker-1"})
	return id
}

// given appends events with the given payloads to a task's stream at its
// head, as a worker or the watchdog would.
func (b *testBundle) given(t *testing.T, taskID uuid.UUID, tenantID string, payloads ...any) {
	t.Helper()
	head := int64(len(readTask(t, b.store, taskID)))
	events := make([]domain.NewEvent, len(payloads))
	for i, p := range payloads {
		events[i] = newEvent(t, p)
	}
	stream := eventstore.Stream{ID: taskID.String(), Type: domain.StreamTask, TenantID: tenantID}
	if _, err := b.store.Append(t.Context(), stream, head, events); err != nil {
		t.Fatalf("given events at seq %d: %v", head+1, err)
	}
}

// newEvent returns a worker's event with payload p (a *domain.Task… payload).
func newEvent(t *testing.T, p any) domain.NewEvent {
	t.Helper()
	var typ domain.EventType
	switch p.(type) {
	case *domain.TaskStarted:
		typ = domain.TaskStartedType
	case *domain.TaskOutput:
		typ = domain.TaskOutputType
	case *domain.TaskProgress:
		typ = domain.TaskProgressType
	case *domain.TaskLeaseLost:
		typ = domain.TaskLeaseLostType
	case *domain.TaskQueued:
		typ = domain.TaskQueuedType
	case *domain.TaskSucceeded:
		typ = domain.TaskSucceededType
	case *domain.TaskFailed:
		typ = domain.TaskFailedType
	case *domain.TaskCanceled:
		typ = domain.TaskCanceledType
	case *domain.TaskTimedOut:
		typ = domain.TaskTimedOutType
	default:
		t.Fatalf("newEvent: no event type for %T", p)
	}
	body, err := domain.MarshalPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return domain.NewEvent{EventID: uuid.New(), Type: typ, Payload: body, Metadata: domain.Metadata{Actor: "worker:worker-1"}, OccurredAt: now}
}

// readTask reads a task's whole stream, page by page.
func readTask(t *testing.T, s teststores.Store, taskID uuid.UUID) []domain.Event {
	t.Helper()
	all := []domain.Event{}
	for {
		page, err := s.ReadStream(t.Context(), taskID.String(), int64(len(all)), 0)
		if err != nil {
			t.Fatalf("read task %s: %v", taskID, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

// thenStream checks that the task's stream verifies (integrity.Verify),
// rebuilds the aggregate with every event, and checks the event types.
func thenStream(t *testing.T, s teststores.Store, taskID uuid.UUID, wantTypes ...domain.EventType) (*domain.Task, []domain.Event) {
	t.Helper()
	events := readTask(t, s, taskID)
	if err := integrity.Verify(events); err != nil {
		t.Errorf("the stream of task %s does not verify: %v", taskID, err)
	}
	task := &domain.Task{}
	for _, e := range events {
		if err := task.Apply(e); err != nil {
			t.Fatalf("the stream of task %s does not rebuild: %v", taskID, err)
		}
	}
	if wantTypes != nil {
		got := make([]domain.EventType, len(events))
		for i, e := range events {
			got[i] = e.Type
		}
		if fmt.Sprint(got) != fmt.Sprint(wantTypes) {
			t.Errorf("task %s holds %v, want %v", taskID, got, wantTypes)
		}
	}
	return task, events
}

// checkValidation fails unless err is a *domain.ValidationError naming field.
func checkValidation(t *testing.T, err error, field string) {
	t.Helper()
	var verr *domain.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("got %v, want a *domain.ValidationError for %s", err, field)
	}
	if verr.Field != field {
		t.Errorf("validation error %q names field %q, want %q", err, verr.Field, field)
	}
}

// checkSameEvents fails unless got and want are the same stored events.
func checkSameEvents(t *testing.T, what string, got, want []domain.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.EventID != w.EventID || g.Seq != w.Seq || g.Hash != w.Hash || string(g.Payload) != string(w.Payload) || g.Metadata != w.Metadata {
			t.Errorf("%s: event %d is %s seq %d hash %x, want %s seq %d hash %x", what, i, g.EventID, g.Seq, g.Hash, w.EventID, w.Seq, w.Hash)
		}
	}
}
