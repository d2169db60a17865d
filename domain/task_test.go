package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// given rebuilds a task from events of the given types, with sample payloads.
func given(t *testing.T, types ...domain.EventType) *domain.Task {
	t.Helper()
	var task domain.Task
	for i, typ := range types {
		if err := task.Apply(event(t, int64(i+1), typ)); err != nil {
			t.Fatalf("given %v: event %d (%s): %v", types, i+1, typ, err)
		}
	}
	return &task
}

func event(t *testing.T, seq int64, typ domain.EventType) domain.Event {
	t.Helper()
	payload, err := domain.MarshalPayload(domain.Samples()[typ])
	if err != nil {
		t.Fatal(err)
	}
	return domain.Event{EventID: uuid.New(), StreamID: "task-1", StreamType: domain.StreamTask, Seq: seq, Type: typ,
		Payload: payload, OccurredAt: t0.Add(time.Duration(seq) * time.Second)}
}

const (
	created       = domain.TaskCreatedType
	queued        = domain.TaskQueuedType
	waiting       = domain.TaskWaitingType
	started       = domain.TaskStartedType
	output        = domain.TaskOutputType
	progress      = domain.TaskProgressType
	cancelReq     = domain.TaskCancelRequestedType
	leaseLost     = domain.TaskLeaseLostType
	succeeded     = domain.TaskSucceededType
	failed        = domain.TaskFailedType
	canceled      = domain.TaskCanceledType
	timedOut      = domain.TaskTimedOutType
	attemptFailed = domain.TaskAttemptFailedType
)

func TestTaskTransitions(t *testing.T) {
	t.Parallel()
	all := domain.KnownTypes()
	tests := []struct {
		name    string
		given   []domain.EventType
		state   domain.TaskState
		allowed []domain.EventType
	}{
		{"empty stream", nil, domain.StateNew, []domain.EventType{created}},
		{"created", []domain.EventType{created}, domain.StateCreated, []domain.EventType{queued, canceled, failed}},
		{"queued", []domain.EventType{created, queued}, domain.StateQueued, []domain.EventType{started, canceled, failed, timedOut, waiting}},
		{"waiting", []domain.EventType{created, queued, waiting}, domain.StateQueued, []domain.EventType{started, canceled, failed, timedOut, waiting}},
		{"running", []domain.EventType{created, queued, started}, domain.StateRunning,
			[]domain.EventType{output, progress, cancelReq, leaseLost, attemptFailed, succeeded, failed, canceled, timedOut}},
		{"running with output", []domain.EventType{created, queued, started, output, progress, output}, domain.StateRunning,
			[]domain.EventType{output, progress, cancelReq, leaseLost, attemptFailed, succeeded, failed, canceled, timedOut}},
		{"cancel requested", []domain.EventType{created, queued, started, cancelReq}, domain.StateRunning,
			[]domain.EventType{output, progress, cancelReq, leaseLost, attemptFailed, succeeded, failed, canceled, timedOut}},
		{"lease lost", []domain.EventType{created, queued, started, leaseLost}, domain.StateRunning,
			[]domain.EventType{queued, failed, canceled, timedOut}},
		{"attempt failed", []domain.EventType{created, queued, started, attemptFailed}, domain.StateRunning,
			[]domain.EventType{queued, failed, canceled, timedOut}},
		{"re-queued after a lost lease", []domain.EventType{created, queued, started, leaseLost, queued}, domain.StateQueued,
			[]domain.EventType{started, canceled, failed, timedOut, waiting}},
		{"succeeded", []domain.EventType{created, queued, started, succeeded}, domain.StateSucceeded, nil},
		{"failed", []domain.EventType{created, queued, started, failed}, domain.StateFailed, nil},
		{"canceled while queued", []domain.EventType{created, queued, canceled}, domain.StateCanceled, nil},
		{"timed out", []domain.EventType{created, queued, started, timedOut}, domain.StateTimedOut, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := given(t, tc.given...)
			if task.State() != tc.state {
				t.Fatalf("state %s, want %s", task.State(), tc.state)
			}
			if task.Seq() != int64(len(tc.given)) {
				t.Fatalf("seq %d, want %d", task.Seq(), len(tc.given))
			}
			for _, typ := range all {
				err := task.CheckNext(typ)
				want := contains(tc.allowed, typ)
				if want && err != nil {
					t.Errorf("when %s: rejected: %v", typ, err)
				}
				var terr *domain.TransitionError
				if !want && !errors.As(err, &terr) {
					t.Errorf("when %s: got %v, want a *TransitionError", typ, err)
				}
				if !want {
					// Apply agrees with CheckNext and leaves the task unchanged.
					before := *task
					if err := task.Apply(event(t, task.Seq()+1, typ)); err == nil {
						t.Errorf("when %s: Apply accepted it", typ)
					}
					if *task != before {
						t.Errorf("when %s: a rejected Apply changed the task", typ)
					}
				}
			}
		})
	}
}

func TestTaskApplyRecordsLifecycle(t *testing.T) {
	t.Parallel()
	task := given(t, created, queued, started, output, succeeded)
	if task.TimeoutS() != 600 || task.Attempt() != 1 {
		t.Errorf("timeout %d attempt %d, want 600 and 1", task.TimeoutS(), task.Attempt())
	}
	if !task.CreatedAt().Equal(t0.Add(time.Second)) || !task.StartedAt().Equal(t0.Add(3*time.Second)) || !task.EndedAt().Equal(t0.Add(5*time.Second)) {
		t.Errorf("times %v %v %v", task.CreatedAt(), task.StartedAt(), task.EndedAt())
	}
	if task.WorkerID() != "" {
		t.Errorf("a finished task still names worker %q", task.WorkerID())
	}
}

func TestTaskApplyRejectsGapsAndUnknownTypes(t *testing.T) {
	t.Parallel()
	task := given(t, created)
	if err := task.Apply(event(t, 3, queued)); err == nil {
		t.Error("applied seq 3 after seq 1")
	}
	e := event(t, 2, queued)
	e.Type = "task.teleported"
	var unknown *domain.UnknownEventTypeError
	if err := task.Apply(e); !errors.As(err, &unknown) {
		t.Errorf("unknown type: %v, want *UnknownEventTypeError", err)
	}
}

// Retention may prune payloads: a task whose output (or any) payloads are
// gone still loads.
func TestTaskApplyToleratesPrunedPayloads(t *testing.T) {
	t.Parallel()
	var task domain.Task
	for i, typ := range []domain.EventType{created, queued, started, output, progress, output} {
		e := event(t, int64(i+1), typ)
		if typ == output || typ == progress {
			e.Payload, e.PayloadSalt = nil, nil
		}
		if err := task.Apply(e); err != nil {
			t.Fatalf("seq %d (%s): %v", i+1, typ, err)
		}
	}
	if task.State() != domain.StateRunning || task.Seq() != 6 {
		t.Fatalf("state %s seq %d", task.State(), task.Seq())
	}
	if task.OutputEvents() != 3 || task.OutputBytes() != 0 {
		t.Fatalf("pruned output counts %d events and %d bytes, want 3 and 0", task.OutputEvents(), task.OutputBytes())
	}
}

// A task counts its output over all its attempts: a retried task goes on
// from what its earlier attempts wrote.
func TestTaskCountsOutputOverAllAttempts(t *testing.T) {
	t.Parallel()
	task := given(t, created, queued, started, output, progress, leaseLost, queued, started, output)
	sample, err := domain.MarshalPayload(domain.Samples()[output])
	if err != nil {
		t.Fatal(err)
	}
	if task.OutputEvents() != 3 || task.OutputBytes() != 2*int64(len(sample)) {
		t.Fatalf("%d output events of %d bytes, want 3 and %d", task.OutputEvents(), task.OutputBytes(), 2*len(sample))
	}
}

func contains(types []domain.EventType, typ domain.EventType) bool {
	for _, x := range types {
		if x == typ {
			return true
		}
	}
	return false
}

func TestTaskWaitingReason(t *testing.T) {
	t.Parallel()
	task := given(t, created, queued, waiting)
	if task.WaitingReason() == "" || task.State() != domain.StateQueued {
		t.Fatalf("after task.waiting: reason %q, state %s", task.WaitingReason(), task.State())
	}
	if err := task.Apply(event(t, 4, started)); err != nil {
		t.Fatal(err)
	}
	if task.WaitingReason() != "" {
		t.Fatal("a started task still has a waiting reason")
	}
}
