package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

func TestRetryPolicyNormalize(t *testing.T) {
	t.Parallel()
	got, err := domain.RetryPolicy{MaxAttempts: 3, NonRetryableExitCodes: []int{7, 2}}.Normalize()
	want := domain.RetryPolicy{BackoffCoefficient: 2, InitialIntervalMS: 1000, MaxAttempts: 3, MaxIntervalMS: 100_000, NonRetryableExitCodes: []int{2, 7}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults: %+v, %v; want %+v", got, err, want)
	}
	for _, tc := range []struct {
		name  string
		p     domain.RetryPolicy
		field string
	}{
		{"no max_attempts", domain.RetryPolicy{}, "retry.max_attempts"},
		{"too many attempts", domain.RetryPolicy{MaxAttempts: domain.MaxRetryAttempts + 1}, "retry.max_attempts"},
		{"negative interval", domain.RetryPolicy{MaxAttempts: 2, InitialIntervalMS: -1}, "retry.initial_interval_ms"},
		{"interval past a day", domain.RetryPolicy{MaxAttempts: 2, InitialIntervalMS: domain.MaxRetryIntervalMS + 1}, "retry.initial_interval_ms"},
		{"coefficient below 1", domain.RetryPolicy{MaxAttempts: 2, BackoffCoefficient: 0.5}, "retry.backoff_coefficient"},
		{"coefficient too large", domain.RetryPolicy{MaxAttempts: 2, BackoffCoefficient: 11}, "retry.backoff_coefficient"},
		{"max interval below the initial", domain.RetryPolicy{MaxAttempts: 2, InitialIntervalMS: 5000, MaxIntervalMS: 1000}, "retry.max_interval_ms"},
		{"exit code 0", domain.RetryPolicy{MaxAttempts: 2, NonRetryableExitCodes: []int{0}}, "retry.non_retryable_exit_codes"},
		{"exit code 256", domain.RetryPolicy{MaxAttempts: 2, NonRetryableExitCodes: []int{256}}, "retry.non_retryable_exit_codes"},
		{"an exit code twice", domain.RetryPolicy{MaxAttempts: 2, NonRetryableExitCodes: []int{3, 3}}, "retry.non_retryable_exit_codes"},
		{"too many exit codes", domain.RetryPolicy{MaxAttempts: 2, NonRetryableExitCodes: make([]int, domain.MaxNonRetryableExitCodes+1)}, "retry.non_retryable_exit_codes"},
	} {
		var verr *domain.ValidationError
		if _, err := tc.p.Normalize(); !errors.As(err, &verr) || verr.Field != tc.field {
			t.Errorf("%s: %v, want a validation error of %s", tc.name, err, tc.field)
		}
	}
	if err := domain.ValidateOnInterrupt("sometimes"); err == nil || !strings.Contains(err.Error(), "on_interrupt") {
		t.Errorf("on_interrupt sometimes: %v", err)
	}
}

func TestRetryPolicyBackoff(t *testing.T) {
	t.Parallel()
	p := domain.RetryPolicy{BackoffCoefficient: 2, InitialIntervalMS: 1000, MaxAttempts: 10, MaxIntervalMS: 5000}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 9: 5 * time.Second} {
		if got := p.Backoff(attempt); got != want {
			t.Errorf("backoff after attempt %d: %s, want %s", attempt, got, want)
		}
	}
}

// retrying is a task created with retry (max 3 attempts, 1 s doubling,
// exit status 2 not retried) and onInterrupt, queued for attempt 1.
func retrying(t *testing.T, onInterrupt domain.OnInterrupt, more ...domain.Payload) *domain.Task {
	t.Helper()
	policy := &domain.RetryPolicy{BackoffCoefficient: 2, InitialIntervalMS: 1000, MaxAttempts: 3, MaxIntervalMS: 60_000, NonRetryableExitCodes: []int{2}}
	events := append([]domain.Payload{
		&domain.TaskCreated{Adapter: "mock", Args: []byte(`{}`), Name: "flaky", OnInterrupt: onInterrupt, Retry: policy, TimeoutS: 600},
		&domain.TaskQueued{Attempt: 1, Reason: "created"},
	}, more...)
	var task domain.Task
	for i, p := range events {
		if err := task.Apply(payloadEvent(t, int64(i+1), p)); err != nil {
			t.Fatalf("given event %d (%s): %v", i+1, p.EventType(), err)
		}
	}
	return &task
}

// apply applies decided events, failing the test if one may not follow.
func apply(t *testing.T, task *domain.Task, events []domain.Payload) {
	t.Helper()
	for _, p := range events {
		if err := task.Apply(payloadEvent(t, task.Seq()+1, p)); err != nil {
			t.Fatalf("decided %s may not follow: %v", p.EventType(), err)
		}
	}
}

func TestTaskRetriesFailedAttempts(t *testing.T) {
	t.Parallel()
	task := retrying(t, "")
	exit1 := domain.RunOutcome{Kind: domain.OutcomeExited, ExitCode: 1}
	now := t0.Add(time.Minute)
	for attempt := 1; attempt <= 3; attempt++ {
		claim, err := task.DecideClaim("w", attempt, now)
		if err != nil {
			t.Fatalf("claim attempt %d at %s: %v", attempt, now, err)
		}
		apply(t, task, claim)
		got, err := task.DecideFinish("w", exit1, now)
		if err != nil {
			t.Fatal(err)
		}
		if attempt == 3 {
			if len(got) != 1 || got[0].EventType() != domain.TaskFailedType {
				t.Fatalf("the last attempt failed: %s, want task.failed", describe(got))
			}
			break
		}
		one := 1
		backoff := time.Duration(1<<(attempt-1)) * time.Second
		want := []domain.Payload{
			&domain.TaskAttemptFailed{Attempt: attempt, Error: "exited with status 1", ExitCode: &one, WorkerID: "w"},
			&domain.TaskQueued{Attempt: attempt + 1, NotBefore: domain.FormatTime(now.Add(backoff)),
				Reason: "attempt " + string(rune('0'+attempt)) + " of 3 failed; attempt " + string(rune('1'+attempt)) + " is due after a backoff of " + backoff.String()},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("attempt %d failed: %s, want %s", attempt, describe(got), describe(want))
		}
		apply(t, task, got)
		if task.State() != domain.StateQueued || task.Attempt() != attempt+1 || !task.NotBefore().Equal(now.Add(backoff)) {
			t.Fatalf("after attempt %d: %s attempt %d not before %s", attempt, task.State(), task.Attempt(), task.NotBefore())
		}
		var notDue *domain.NotDueError
		if _, err := task.DecideClaim("w", attempt+1, now.Add(backoff-time.Microsecond)); !errors.As(err, &notDue) || !notDue.At.Equal(now.Add(backoff)) {
			t.Fatalf("a claim before the backoff ends: %v, want a *NotDueError", err)
		}
		now = now.Add(backoff)
	}
}

func TestTaskRetryStopsAtOnce(t *testing.T) {
	t.Parallel()
	two := 2
	for name, tc := range map[string]struct {
		o    domain.RunOutcome
		want domain.EventType
	}{
		"a non-retryable exit status": {domain.RunOutcome{Kind: domain.OutcomeExited, ExitCode: two}, domain.TaskFailedType},
		"a limit of the plan":         {domain.RunOutcome{Kind: domain.OutcomeLimitReached, Error: "output limit"}, domain.TaskFailedType},
		"a permanent start failure":   {domain.RunOutcome{Kind: domain.OutcomeStartFailed, Error: `secret "X" does not exist`, Permanent: true}, domain.TaskFailedType},
		"a timeout":                   {domain.RunOutcome{Kind: domain.OutcomeTimedOut}, domain.TaskTimedOutType},
		"a cancel":                    {domain.RunOutcome{Kind: domain.OutcomeCanceled}, domain.TaskCanceledType},
		"success":                     {domain.RunOutcome{Kind: domain.OutcomeExited}, domain.TaskSucceededType},
	} {
		task := retrying(t, "", &domain.TaskStarted{Attempt: 1, WorkerID: "w"})
		got, err := task.DecideFinish("w", tc.o, t0)
		if err != nil || len(got) != 1 || got[0].EventType() != tc.want {
			t.Errorf("%s: %s, %v; want only %s", name, describe(got), err, tc.want)
		}
	}
	// A start that failed and an executor that failed are retried.
	for _, kind := range []domain.RunOutcomeKind{domain.OutcomeStartFailed, domain.OutcomeExecutorFailed} {
		task := retrying(t, "", &domain.TaskStarted{Attempt: 1, WorkerID: "w"})
		got, _ := task.DecideFinish("w", domain.RunOutcome{Kind: kind, Error: "gone"}, t0)
		if len(got) != 2 || got[0].EventType() != domain.TaskAttemptFailedType {
			t.Errorf("outcome %d: %s, want a retry", kind, describe(got))
		}
	}
}

func TestTaskOnInterruptFail(t *testing.T) {
	t.Parallel()
	started := &domain.TaskStarted{Attempt: 1, WorkerID: "w"}
	lost := &domain.TaskLeaseLost{Attempt: 1, WorkerID: "w"}
	for name, decide := range map[string]func(*domain.Task) ([]domain.Payload, error){
		"lease expired": func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideLeaseExpired("w", 1, 3, t0.Add(5*time.Second))
		},
		"handed back": func(task *domain.Task) ([]domain.Payload, error) {
			return task.DecideHandBack("w", "worker w shut down")
		},
	} {
		got, err := decide(retrying(t, domain.OnInterruptFail, started))
		if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], lost) || got[1].EventType() != domain.TaskFailedType ||
			!strings.Contains(got[1].(*domain.TaskFailed).Error, `on_interrupt is "fail"`) {
			t.Errorf("%s: %s, %v; want lease lost, then failed saying why", name, describe(got), err)
		}
		got, err = decide(retrying(t, domain.OnInterruptRetry, started))
		if err != nil || len(got) != 2 || got[1].EventType() != domain.TaskQueuedType {
			t.Errorf("%s, on_interrupt retry: %s, %v; want queued again", name, describe(got), err)
		}
	}
}

// Attempts that failed and were retried do not count against the
// watchdog's bound on interrupted attempts.
func TestTaskInterruptedAttemptsCountApart(t *testing.T) {
	t.Parallel()
	one := 1
	task := retrying(t, "",
		&domain.TaskStarted{Attempt: 1, WorkerID: "w"},
		&domain.TaskAttemptFailed{Attempt: 1, Error: "exited with status 1", ExitCode: &one, WorkerID: "w"},
		&domain.TaskQueued{Attempt: 2, NotBefore: domain.FormatTime(t0), Reason: "retry"},
		&domain.TaskStarted{Attempt: 2, WorkerID: "w"})
	got, err := task.DecideLeaseExpired("w", 2, 2, t0.Add(5*time.Second))
	if err != nil || len(got) != 2 || got[1].EventType() != domain.TaskQueuedType {
		t.Errorf("the first interruption of 2 allowed: %s, %v; want queued again", describe(got), err)
	}
}

// A task.created stored before retry policies existed still loads: it
// runs once and is queued again when its worker dies.
func TestTaskCreatedBeforeRetryPolicies(t *testing.T) {
	t.Parallel()
	var task domain.Task
	old := domain.Event{StreamID: "s", Seq: 1, Type: domain.TaskCreatedType, OccurredAt: t0,
		Payload: []byte(`{"adapter":"mock","args":{"steps":1},"name":"old","timeout_s":60}`)}
	if err := task.Apply(old); err != nil {
		t.Fatal(err)
	}
	if p := task.RetryPolicy(); p.MaxAttempts != 1 || task.OnInterrupt() != domain.OnInterruptRetry {
		t.Errorf("an old task: %+v, on_interrupt %s; want one attempt, retry", p, task.OnInterrupt())
	}
}

// A task is due when it is queued, or when a retry's backoff ends if that
// is later: where its dispatch latency counts from.
func TestTaskDueAt(t *testing.T) {
	t.Parallel()
	task := retrying(t, "")
	queued := t0.Add(2 * time.Second) // payloadEvent's time of seq 2
	if !task.DueAt().Equal(queued) {
		t.Fatalf("DueAt of a queued task: %s, want its task.queued's time %s", task.DueAt(), queued)
	}
	now := t0.Add(time.Minute)
	claim, err := task.DecideClaim("w", 1, now)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, task, claim)
	if !task.DueAt().Equal(queued) {
		t.Fatalf("DueAt of the started attempt: %s, want %s", task.DueAt(), queued)
	}
	failed, err := task.DecideFinish("w", domain.RunOutcome{Kind: domain.OutcomeExited, ExitCode: 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, task, failed)
	if due := now.Add(time.Second); !task.DueAt().Equal(due) {
		t.Fatalf("DueAt of a retry after a backoff: %s, want its not_before %s", task.DueAt(), due)
	}
}
