package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

// Given events (the sample payloads: task.created has a timeout of 600 s,
// task.started is attempt 1 of worker-1, started at t0+3s), when a
// decision, then these events or that error.
type decisionCase struct {
	name  string
	given []domain.EventType
	when  func(*domain.Task) ([]domain.Payload, error)
	then  []domain.Payload
	err   error
}

func runDecisions(t *testing.T, cases []decisionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := given(t, tc.given...)
			before := *task
			got, err := tc.when(task)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("then %s, want %s", describe(got), describe(tc.then))
			}
			if *task != before {
				t.Fatal("a decision changed the task")
			}
			// The decided events may follow, in order.
			for i, p := range got {
				if err := task.Apply(payloadEvent(t, task.Seq()+1, p)); err != nil {
					t.Fatalf("decided event %d (%s) may not follow: %v", i, p.EventType(), err)
				}
			}
		})
	}
}

func describe(ps []domain.Payload) string {
	s := "["
	for i, p := range ps {
		if i > 0 {
			s += " "
		}
		b, _ := domain.MarshalPayload(p)
		s += string(p.EventType()) + string(b)
	}
	return s + "]"
}

func TestTaskDecideClaim(t *testing.T) {
	t.Parallel()
	claim := func(worker string, attempt int) func(*domain.Task) ([]domain.Payload, error) {
		return func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideClaim(worker, attempt, t0.Add(time.Hour))
		}
	}
	runDecisions(t, []decisionCase{
		{"queued: started", []domain.EventType{created, queued}, claim("w2", 1),
			[]domain.Payload{&domain.TaskStarted{Attempt: 1, WorkerID: "w2"}}, nil},
		{"waiting: started", []domain.EventType{created, queued, waiting}, claim("w2", 1),
			[]domain.Payload{&domain.TaskStarted{Attempt: 1, WorkerID: "w2"}}, nil},
		{"claimed by another worker", []domain.EventType{created, queued, started}, claim("w2", 1), nil, domain.ErrNotClaimable},
		{"queued for another attempt", []domain.EventType{created, queued}, claim("w2", 2), nil, domain.ErrNotClaimable},
		{"canceled", []domain.EventType{created, queued, canceled}, claim("w2", 1), nil, domain.ErrNotClaimable},
		{"created, not queued", []domain.EventType{created}, claim("w2", 1), nil, domain.ErrNotClaimable},
	})
}

func TestTaskDecideWait(t *testing.T) {
	t.Parallel()
	wait := func(reason string) func(*domain.Task) ([]domain.Payload, error) {
		return func(task *domain.Task) ([]domain.Payload, error) { return task.DecideWait(reason) }
	}
	sample := domain.Samples()[waiting].(*domain.TaskWaiting).Reason
	runDecisions(t, []decisionCase{
		{"queued: say why", []domain.EventType{created, queued}, wait("busy"), []domain.Payload{&domain.TaskWaiting{Reason: "busy"}}, nil},
		{"a new reason", []domain.EventType{created, queued, waiting}, wait("busy"), []domain.Payload{&domain.TaskWaiting{Reason: "busy"}}, nil},
		{"said already", []domain.EventType{created, queued, waiting}, wait(sample), nil, nil},
		{"started meanwhile", []domain.EventType{created, queued, started}, wait("busy"), nil, nil},
	})
}

func TestTaskDecideFinish(t *testing.T) {
	t.Parallel()
	finish := func(worker string, o domain.RunOutcome) func(*domain.Task) ([]domain.Payload, error) {
		return func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideFinish(worker, o, t0.Add(time.Hour))
		}
	}
	running := []domain.EventType{created, queued, started, output}
	exit3 := 3
	runDecisions(t, []decisionCase{
		{"exit 0: succeeded", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeExited, Summary: "ok"}),
			[]domain.Payload{&domain.TaskSucceeded{ExitCode: 0, Summary: "ok"}}, nil},
		{"exit 3: failed", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeExited, ExitCode: 3}),
			[]domain.Payload{&domain.TaskFailed{Error: "exited with status 3", ExitCode: &exit3}}, nil},
		{"exit 3 with a summary", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeExited, ExitCode: 3, Summary: "2 tests failed"}),
			[]domain.Payload{&domain.TaskFailed{Error: "exited with status 3: 2 tests failed", ExitCode: &exit3}}, nil},
		{"timed out: the task's timeout", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeTimedOut}),
			[]domain.Payload{&domain.TaskTimedOut{TimeoutS: 600}}, nil},
		{"canceled", append(running, cancelReq), finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeCanceled}),
			[]domain.Payload{&domain.TaskCanceled{Reason: "canceled on request"}}, nil},
		{"could not start", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeStartFailed, Error: "no such file"}),
			[]domain.Payload{&domain.TaskFailed{Error: "no such file"}}, nil},
		{"executor failed", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeExecutorFailed, Error: "docker gone"}),
			[]domain.Payload{&domain.TaskFailed{Error: "the executor failed: docker gone"}}, nil},
		{"a limit reached: failed, saying which", running, finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeLimitReached, Error: "output limit reached: 32 MiB"}),
			[]domain.Payload{&domain.TaskFailed{Error: "output limit reached: 32 MiB"}}, nil},
		{"a limit reached after a cancel request: failed all the same", append(running, cancelReq),
			finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeLimitReached, Error: "out of memory: the task used all of its 512 MiB of memory"}),
			[]domain.Payload{&domain.TaskFailed{Error: "out of memory: the task used all of its 512 MiB of memory"}}, nil},
		{"a limit reached on an attempt taken away", []domain.EventType{created, queued, started, leaseLost, queued},
			finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeLimitReached, Error: "output limit reached"}), nil, domain.ErrAttemptOver},
		{"another worker's attempt", running, finish("worker-2", domain.RunOutcome{Kind: domain.OutcomeExited}), nil, domain.ErrAttemptOver},
		{"re-queued by the watchdog", []domain.EventType{created, queued, started, leaseLost, queued},
			finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeExited}), nil, domain.ErrAttemptOver},
		{"canceled outright meanwhile", []domain.EventType{created, queued, started, canceled},
			finish("worker-1", domain.RunOutcome{Kind: domain.OutcomeCanceled}), nil, domain.ErrAttemptOver},
	})
}

func TestTaskDecideHandBack(t *testing.T) {
	t.Parallel()
	handBack := func(worker string) func(*domain.Task) ([]domain.Payload, error) {
		return func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideHandBack(worker, "worker-1 shut down")
		}
	}
	runDecisions(t, []decisionCase{
		{"running: lease lost, queued for attempt 2", []domain.EventType{created, queued, started, output}, handBack("worker-1"),
			[]domain.Payload{&domain.TaskLeaseLost{Attempt: 1, WorkerID: "worker-1"}, &domain.TaskQueued{Attempt: 2, Reason: "worker-1 shut down"}}, nil},
		{"another worker's", []domain.EventType{created, queued, started}, handBack("worker-2"), nil, domain.ErrAttemptOver},
		{"ended", []domain.EventType{created, queued, started, succeeded}, handBack("worker-1"), nil, domain.ErrAttemptOver},
	})
}

func TestTaskDecideLeaseExpired(t *testing.T) {
	t.Parallel()
	startedAt := t0.Add(3 * time.Second)
	expired := func(worker string, attempt, maxAttempts int, now time.Time) func(*domain.Task) ([]domain.Payload, error) {
		return func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideLeaseExpired(worker, attempt, maxAttempts, now)
		}
	}
	running := []domain.EventType{created, queued, started, progress}
	lost := &domain.TaskLeaseLost{Attempt: 1, WorkerID: "worker-1"}
	runDecisions(t, []decisionCase{
		{"attempts left: re-queued", running, expired("worker-1", 1, 3, startedAt.Add(time.Minute)),
			[]domain.Payload{lost, &domain.TaskQueued{Attempt: 2, Reason: "worker worker-1 stopped renewing its lease on attempt 1"}}, nil},
		{"last attempt: failed", running, expired("worker-1", 1, 1, startedAt.Add(time.Minute)),
			[]domain.Payload{lost, &domain.TaskFailed{Error: "worker worker-1 stopped renewing its lease on attempt 1, the task's interrupted attempt 1 of 1 (it crashed or lost the database); no attempts are left"}}, nil},
		{"past its timeout: timed out", running, expired("worker-1", 1, 3, startedAt.Add(601*time.Second)),
			[]domain.Payload{lost, &domain.TaskTimedOut{TimeoutS: 600}}, nil},
		{"at its timeout: not yet", running, expired("worker-1", 1, 3, startedAt.Add(600*time.Second)),
			[]domain.Payload{lost, &domain.TaskQueued{Attempt: 2, Reason: "worker worker-1 stopped renewing its lease on attempt 1"}}, nil},
		{"another attempt", running, expired("worker-1", 2, 3, startedAt), nil, domain.ErrAttemptOver},
		{"another worker", running, expired("worker-2", 1, 3, startedAt), nil, domain.ErrAttemptOver},
		{"ended", append(running, succeeded), expired("worker-1", 1, 3, startedAt), nil, domain.ErrAttemptOver},
		{"queued", []domain.EventType{created, queued}, expired("worker-1", 1, 3, startedAt), nil, domain.ErrAttemptOver},
	})
}

func TestTaskDecideCancel(t *testing.T) {
	t.Parallel()
	cancel := func(task *domain.Task) ([]domain.Payload, error) { return task.DecideCancel("no longer needed") }
	now := []domain.Payload{&domain.TaskCanceled{Reason: "no longer needed"}}
	ask := []domain.Payload{&domain.TaskCancelRequested{Reason: "no longer needed"}}
	runDecisions(t, []decisionCase{
		{"queued: cancel at once", []domain.EventType{created, queued}, cancel, now, nil},
		{"running: ask the worker", []domain.EventType{created, queued, started}, cancel, ask, nil},
		{"already requested: nothing to do", []domain.EventType{created, queued, started, cancelReq}, cancel, nil, nil},
		{"lease lost: cancel at once", []domain.EventType{created, queued, started, leaseLost}, cancel, now, nil},
		{"requested, then lease lost: cancel at once", []domain.EventType{created, queued, started, cancelReq, leaseLost}, cancel, now, nil},
		{"finished", []domain.EventType{created, queued, started, succeeded}, cancel, nil, domain.ErrTaskFinished},
		{"already canceled: nothing to do", []domain.EventType{created, queued, canceled}, cancel, nil, nil},
	})
	if _, err := given(t).DecideCancel(""); err == nil {
		t.Error("cancel of an empty stream succeeded")
	}
	for want, events := range map[domain.CancelDecision][]domain.Payload{domain.CancelNow: now, domain.CancelRequest: ask, domain.CancelNothing: nil} {
		if got := domain.CancelDecisionOf(events); got != want {
			t.Errorf("CancelDecisionOf(%s) = %v, want %v", describe(events), got, want)
		}
	}
}

func TestTaskRemembersWhatRuns(t *testing.T) {
	t.Parallel()
	task := given(t, created, queued)
	sample := domain.Samples()[created].(*domain.TaskCreated)
	if task.Adapter() != domain.Adapter(sample.Adapter) || string(task.Args()) != string(sample.Args) {
		t.Errorf("adapter %q args %s, want %q %s", task.Adapter(), task.Args(), sample.Adapter, sample.Args)
	}
}

// Every payload names the type it is registered under.
func TestPayloadsKnowTheirType(t *testing.T) {
	t.Parallel()
	for typ, p := range domain.Samples() {
		if p.EventType() != typ {
			t.Errorf("the sample of %s says it is %s", typ, p.EventType())
		}
		b, err := domain.MarshalPayload(p)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := domain.Decode(typ, b)
		if err != nil || decoded.EventType() != typ {
			t.Errorf("Decode(%s) = %T, %v", typ, decoded, err)
		}
	}
}

func TestTaskDecideStart(t *testing.T) {
	t.Parallel()
	c := &domain.TaskCreated{Adapter: "mock", Args: []byte(`{"steps":1}`), Name: "n", TimeoutS: 60}
	start := func(task *domain.Task) ([]domain.Payload, error) { return task.DecideStart(c) }
	var terr *domain.TransitionError
	runDecisions(t, []decisionCase{
		{"empty stream: created, queued for attempt 1", nil, start,
			[]domain.Payload{c, &domain.TaskQueued{Attempt: 1, Reason: "created"}}, nil},
	})
	if _, err := given(t, created).DecideStart(c); !errors.As(err, &terr) {
		t.Errorf("a second start: %v, want a *TransitionError", err)
	}
}
