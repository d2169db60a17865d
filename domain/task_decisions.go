package domain

import (
	"errors"
	"fmt"
	"time"
)

// Decisions of the task aggregate. Each is a pure method: it reads the task
// as its events left it, and the arguments (time included) its caller
// passes, and returns the payloads of the events that follow, in order. No
// payloads means there is nothing to do. A caller appends them at the
// task's Seq; when the stream moved on meanwhile it catches up and asks
// again.

// Errors of the task decisions.
var (
	// ErrNotClaimable: the task is not queued for the attempt asked for
	// (another worker claimed it, or it was canceled or has ended).
	ErrNotClaimable = errors.New("task is not queued: nothing to claim")
	// ErrAttemptOver: the attempt asked about no longer runs on that
	// worker; someone else moved the task on.
	ErrAttemptOver = errors.New("that attempt of the task is over: the task moved on")
)

// DecideStart returns the events that start a task: created, then queued
// for its first attempt. Only a task whose stream is empty can start.
func (t *Task) DecideStart(created *TaskCreated) ([]Payload, error) {
	if t.State() != StateNew {
		return nil, &TransitionError{From: t.State(), Event: TaskCreatedType}
	}
	return []Payload{created, &TaskQueued{Attempt: 1, Reason: "created"}}, nil
}

// NotDueError says that the queued attempt waits for its retry backoff
// until At.
type NotDueError struct {
	At time.Time
}

func (e *NotDueError) Error() string {
	return "the task's next attempt is not due before " + FormatTime(e.At)
}

// DecideClaim returns task.started: workerID claims attempt at now. A task
// that is not queued, or is queued for another attempt (the one asked for
// was claimed and re-queued meanwhile), is ErrNotClaimable; an attempt
// whose retry backoff lasts beyond now is a *NotDueError.
func (t *Task) DecideClaim(workerID string, attempt int, now time.Time) ([]Payload, error) {
	if t.State() != StateQueued || t.attempt != attempt {
		return nil, ErrNotClaimable
	}
	if now.Before(t.notBefore) {
		return nil, &NotDueError{At: t.notBefore}
	}
	return []Payload{&TaskStarted{Attempt: attempt, WorkerID: workerID}}, nil
}

// DecideWait returns task.waiting with reason, the reason a queued task
// does not start yet, unless the task already says so. A task that is no
// longer queued needs no reason: nothing follows.
func (t *Task) DecideWait(reason string) ([]Payload, error) {
	if t.State() != StateQueued || t.waitingReason == reason {
		return nil, nil
	}
	return []Payload{&TaskWaiting{Reason: reason}}, nil
}

// RunOutcomeKind says how an attempt's executor ended.
type RunOutcomeKind int

// How an executor can end.
const (
	// OutcomeExited: the process ran and exited with RunOutcome.ExitCode.
	OutcomeExited RunOutcomeKind = iota
	// OutcomeTimedOut: the worker stopped it when the task's timeout passed.
	OutcomeTimedOut
	// OutcomeCanceled: the worker stopped it on a cancel request.
	OutcomeCanceled
	// OutcomeStartFailed: the process could not start; RunOutcome.Error says why.
	OutcomeStartFailed
	// OutcomeExecutorFailed: the executor failed while the process ran;
	// RunOutcome.Error says how.
	OutcomeExecutorFailed
	// OutcomeLimitReached: the task reached a limit of its plan (its
	// output, its memory, its processes …) and was stopped; RunOutcome.Error
	// names the limit and how to raise it.
	OutcomeLimitReached
)

// RunOutcome is how an attempt's executor ended, as the worker saw it.
type RunOutcome struct {
	Kind RunOutcomeKind
	// ExitCode and Summary are the process's, for OutcomeExited.
	ExitCode int
	Summary  string
	// Error says what went wrong, for OutcomeStartFailed,
	// OutcomeExecutorFailed and OutcomeLimitReached.
	Error string
	// Permanent marks an OutcomeStartFailed that no other attempt can fix
	// (a missing secret, refused credentials): no retry follows it.
	Permanent bool
}

// DecideFinish returns the events that follow when the executor of
// workerID's attempt ended with o at now: task.succeeded for an exit status
// of 0, task.failed for another status, an executor that failed or a limit
// the task reached, task.timed_out or task.canceled when the worker stopped
// it. A failure the task's retry policy retries (see RetryPolicy) is
// task.attempt_failed instead, then task.queued for the next attempt, due
// after its backoff; a limit reached and a permanent start failure are not
// retried. A task workerID no longer holds is ErrAttemptOver.
func (t *Task) DecideFinish(workerID string, o RunOutcome, now time.Time) ([]Payload, error) {
	if !t.HeldBy(workerID) {
		return nil, ErrAttemptOver
	}
	var end Payload
	switch o.Kind {
	case OutcomeExited:
		if o.ExitCode == 0 {
			end = &TaskSucceeded{ExitCode: 0, Summary: o.Summary}
			break
		}
		code := o.ExitCode
		end = &TaskFailed{Error: exitFailure(o), ExitCode: &code}
	case OutcomeTimedOut:
		end = &TaskTimedOut{TimeoutS: t.timeoutS}
	case OutcomeCanceled:
		end = &TaskCanceled{Reason: "canceled on request"}
	case OutcomeStartFailed:
		end = &TaskFailed{Error: o.Error}
	case OutcomeExecutorFailed:
		end = &TaskFailed{Error: "the executor failed: " + o.Error}
	case OutcomeLimitReached:
		end = &TaskFailed{Error: o.Error}
	default:
		return nil, fmt.Errorf("finish: unknown run outcome %d", o.Kind)
	}
	if f, ok := end.(*TaskFailed); ok && o.Kind != OutcomeLimitReached && !o.Permanent {
		if retry := t.decideRetry(f, now); retry != nil {
			return retry, nil
		}
	}
	return []Payload{end}, nil
}

// decideRetry returns task.attempt_failed and task.queued when the task's
// retry policy runs the task again after the current attempt failed so,
// nil when it does not (nor after a cancel request: that task ends).
func (t *Task) decideRetry(f *TaskFailed, now time.Time) []Payload {
	policy := t.RetryPolicy()
	if t.cancelRequested || t.attempt >= policy.MaxAttempts || !policy.retryable(f.ExitCode) {
		return nil
	}
	backoff := policy.Backoff(t.attempt)
	return []Payload{
		&TaskAttemptFailed{Attempt: t.attempt, Error: f.Error, ExitCode: f.ExitCode, WorkerID: t.workerID},
		&TaskQueued{Attempt: t.attempt + 1, NotBefore: FormatTime(now.Add(backoff)), Reason: fmt.Sprintf(
			"attempt %d of %d failed; attempt %d is due after a backoff of %s", t.attempt, policy.MaxAttempts, t.attempt+1, backoff)},
	}
}

func exitFailure(o RunOutcome) string {
	if o.Summary != "" {
		return fmt.Sprintf("exited with status %d: %s", o.ExitCode, o.Summary)
	}
	return fmt.Sprintf("exited with status %d", o.ExitCode)
}

// DecideHandBack returns the events by which workerID gives the task back
// to the queue (it shuts down, say): task.lease_lost, then task.queued for
// the next attempt with reason, or task.failed when the task's
// on_interrupt is "fail". A task workerID no longer holds is
// ErrAttemptOver.
func (t *Task) DecideHandBack(workerID, reason string) ([]Payload, error) {
	if !t.HeldBy(workerID) {
		return nil, ErrAttemptOver
	}
	if t.OnInterrupt() == OnInterruptFail {
		return t.takeAway(t.interruptFailure(reason)), nil
	}
	return t.takeAway(&TaskQueued{Attempt: t.attempt + 1, Reason: reason}), nil
}

// interruptFailure is the end of a task whose on_interrupt is "fail" when
// its attempt was interrupted for reason.
func (t *Task) interruptFailure(reason string) *TaskFailed {
	return &TaskFailed{Error: fmt.Sprintf(
		"attempt %d was interrupted (%s) and the task's on_interrupt is \"fail\": it is not run again", t.attempt, reason)}
}

// DecideLeaseExpired returns the events that follow when the lease of
// workerID's attempt expired at now (the worker died): task.lease_lost, then
// task.timed_out when the task's timeout has passed since the attempt
// started, task.failed when the task's on_interrupt is "fail" or the
// attempt was the last of maxAttempts interrupted ones (attempts that
// failed by themselves and were retried do not count), and task.queued for
// the next attempt otherwise. An attempt that is over already (the task
// moved on) is ErrAttemptOver.
func (t *Task) DecideLeaseExpired(workerID string, attempt, maxAttempts int, now time.Time) ([]Payload, error) {
	if !t.HeldBy(workerID) || t.attempt != attempt {
		return nil, ErrAttemptOver
	}
	var next Payload
	switch {
	case t.timeoutS > 0 && now.After(t.startedAt.Add(time.Duration(t.timeoutS)*time.Second)):
		next = &TaskTimedOut{TimeoutS: t.timeoutS}
	case t.OnInterrupt() == OnInterruptFail:
		next = t.interruptFailure(fmt.Sprintf("worker %s stopped renewing its lease: it crashed or lost the database", workerID))
	case attempt-t.failedAttempts >= maxAttempts:
		next = &TaskFailed{Error: fmt.Sprintf(
			"worker %s stopped renewing its lease on attempt %d, the task's interrupted attempt %d of %d (it crashed or lost the database); no attempts are left",
			workerID, attempt, attempt-t.failedAttempts, maxAttempts)}
	default:
		next = &TaskQueued{Attempt: attempt + 1, Reason: fmt.Sprintf("worker %s stopped renewing its lease on attempt %d", workerID, attempt)}
	}
	return t.takeAway(next), nil
}

// takeAway returns task.lease_lost for the current attempt, then next (a
// re-queue or an ending).
func (t *Task) takeAway(next Payload) []Payload {
	return []Payload{&TaskLeaseLost{Attempt: t.attempt, WorkerID: t.workerID}, next}
}

// CancelDecision is what a cancel decided.
type CancelDecision int

// Outcomes of Task.DecideCancel (see CancelDecisionOf).
const (
	// CancelNothing: a cancel was already requested, or the task is
	// canceled already; nothing follows.
	CancelNothing CancelDecision = iota
	// CancelNow: the task has not started (or no worker holds it any more);
	// task.canceled follows.
	CancelNow
	// CancelRequest: the task runs; task.cancel_requested follows and the
	// worker stops it.
	CancelRequest
)

// CancelDecisionOf says which cancel the payloads DecideCancel returned make.
func CancelDecisionOf(events []Payload) CancelDecision {
	if len(events) == 0 {
		return CancelNothing
	}
	if events[0].EventType() == TaskCancelRequestedType {
		return CancelRequest
	}
	return CancelNow
}

// DecideCancel returns the event that cancels the task, with reason: at
// once when no worker runs it, by asking its worker otherwise. It is
// idempotent: a task whose cancel was requested, or that is canceled
// already, needs nothing. A task that ended otherwise is ErrTaskFinished.
func (t *Task) DecideCancel(reason string) ([]Payload, error) {
	switch s := t.State(); {
	case s == StateCanceled:
		return nil, nil
	case s.Terminal():
		return nil, ErrTaskFinished
	case s == StateRunning && t.released:
		// No worker holds the task any more: cancel it outright, even if a
		// cancel was requested before the lease was lost.
		return []Payload{&TaskCanceled{Reason: reason}}, nil
	case s == StateRunning && t.cancelRequested:
		return nil, nil
	case s == StateRunning:
		return []Payload{&TaskCancelRequested{Reason: reason}}, nil
	case s == StateNew:
		return nil, errors.New("cancel: task does not exist")
	default:
		return []Payload{&TaskCanceled{Reason: reason}}, nil
	}
}
