package commands

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// Limits of CancelTask.
const (
	// MaxCancelReasonLen bounds CancelTask.Reason, in bytes.
	MaxCancelReasonLen = 1000
)

// DefaultCancelRetryFor is the default of CancelTaskConfig.RetryFor.
const DefaultCancelRetryFor = 2 * time.Second

// CancelTask cancels a task: at once when no worker runs it, by asking its
// worker otherwise. It is idempotent.
type CancelTask struct {
	TaskID uuid.UUID
	// TenantID is the caller's tenant; another tenant's task is not found.
	TenantID string
	// Reason is stored in the event (optional, at most MaxCancelReasonLen bytes of UTF-8).
	Reason string
	// CommandID, when set, makes a repeated command a no-op even after the
	// task has finished (see the package doc), and is the event's causation id.
	CommandID string
	// Meta is stored with the event.
	Meta domain.Metadata
}

// CancelTaskResult is what a CancelTask did.
type CancelTaskResult struct {
	// Decision is domain.CancelNow when the command appended task.canceled,
	// domain.CancelRequest when it appended task.cancel_requested, and
	// domain.CancelNothing when it appended nothing: a cancel was already
	// requested, the task is canceled already, or this very command (same
	// CommandID) took effect before.
	Decision domain.CancelDecision
	// Events holds the event the command appended; empty for CancelNothing.
	Events []domain.Event
	// State is the task's state after the command: canceled, or running
	// with a cancel requested (or, for a repeated command, whatever the task
	// has become since).
	State domain.TaskState
	// LastSeq is the seq of the last event of the task the command saw.
	LastSeq int64
}

// CancelTaskStore is what a CancelTaskHandler needs of the event store.
type CancelTaskStore interface {
	StreamReader
	EventAppender
}

// CancelTaskConfig configures a CancelTaskHandler. The zero value is usable.
type CancelTaskConfig struct {
	// RetryFor bounds how long the handler decides again after the task
	// moved on between its read and its append (default
	// DefaultCancelRetryFor), measured by NowFunc.
	RetryFor time.Duration
	// NowFunc gives the time the events occur at (default time.Now).
	NowFunc func() time.Time
	// HoldOutput asks the worker that runs a task to hold the task's output
	// back for a moment (at most about a second), until the cancel request
	// is in the task's stream: a task that prints without pause appends
	// output back to back, and its cancel would lose every race for the
	// stream's head. The handler calls it before appending a cancel
	// request; the call must not wait for the worker. Nil: the handler asks
	// nothing and relies on RetryFor alone.
	HoldOutput func(ctx context.Context, taskID uuid.UUID, tenantID string)
}

func (c CancelTaskConfig) withDefaults() CancelTaskConfig {
	if c.RetryFor == 0 {
		c.RetryFor = DefaultCancelRetryFor
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	return c
}

func (c CancelTaskConfig) validate() error {
	if c.RetryFor < 0 {
		return fmt.Errorf("cancel task config: RetryFor is %s; it must be positive", c.RetryFor)
	}
	return nil
}

// CancelTaskHandler handles CancelTask. It is safe for concurrent use.
type CancelTaskHandler struct {
	w          Writer
	holdOutput func(ctx context.Context, taskID uuid.UUID, tenantID string)
}

// NewCancelTaskHandler returns a handler that reads and appends through
// store. It fails when cfg, with its defaults, cannot work.
func NewCancelTaskHandler(store CancelTaskStore, cfg CancelTaskConfig) (*CancelTaskHandler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &CancelTaskHandler{w: Writer{Store: store, RetryFor: cfg.RetryFor, NowFunc: cfg.NowFunc}, holdOutput: cfg.HoldOutput}, nil
}

// Handle loads the task, lets domain.Task.DecideCancel decide and appends
// its event, if any. It is idempotent: a task whose cancel was requested
// already, or that is canceled already, is a success with CancelNothing. A
// task that ended otherwise (succeeded, failed, timed out) is a
// *TaskFinishedError (errors.Is domain.ErrTaskFinished) naming the state; a
// task that does not exist or belongs to another tenant is ErrTaskNotFound.
// Before it first appends a cancel request it asks the task's worker to
// hold the task's output back (HoldOutput). When the task moves on between the read and the append (a
// worker claims it, or appends output), Handle reads what changed and
// decides again, for RetryFor; after that it fails with an error that
// matches eventstore.ErrConflict, and the caller may retry.
func (h *CancelTaskHandler) Handle(ctx context.Context, cmd CancelTask) (CancelTaskResult, error) {
	if err := validateCancel(cmd); err != nil {
		return CancelTaskResult{}, err
	}
	if cmd.TaskID == uuid.Nil {
		return CancelTaskResult{}, fmt.Errorf("task %s: %w", cmd.TaskID, ErrTaskNotFound)
	}
	eventID, err := cancelEventID(cmd)
	if err != nil {
		return CancelTaskResult{}, err
	}
	task := &taskSeeing{eventID: eventID}
	if err := CatchUpTask(ctx, h.w.Store, cmd.TaskID, cmd.TenantID, task); err != nil {
		return CancelTaskResult{}, err
	}
	to := Target{
		Stream:      taskStream(cmd.TaskID, cmd.TenantID),
		Meta:        withCausation(cmd.Meta, cmd.CommandID),
		EventIDFunc: func(int) uuid.UUID { return eventID },
	}
	var decided []domain.Payload
	held := false
	stored, err := Update(ctx, h.w, to, task, func(task *taskSeeing) ([]domain.Payload, error) {
		if task.seen {
			return nil, nil // this very command took effect before
		}
		var err error
		decided, err = task.DecideCancel(cmd.Reason)
		if !held && domain.CancelDecisionOf(decided) == domain.CancelRequest && h.holdOutput != nil {
			// Only a cancel request competes with a worker for the
			// stream's head; ask it to make way, once.
			h.holdOutput(ctx, cmd.TaskID, cmd.TenantID)
			held = true
		}
		return decided, err
	})
	switch {
	case errors.Is(err, domain.ErrTaskFinished):
		return CancelTaskResult{}, &TaskFinishedError{TaskID: cmd.TaskID, State: task.State()}
	case err != nil:
		return CancelTaskResult{}, fmt.Errorf("cancel task %s: %w", cmd.TaskID, err)
	case len(stored) == 0:
		decided = nil
	}
	return CancelTaskResult{Decision: domain.CancelDecisionOf(decided), Events: stored, State: task.State(), LastSeq: task.Seq()}, nil
}

// taskSeeing is a task that notes whether one event id is among its events.
type taskSeeing struct {
	domain.Task
	eventID uuid.UUID
	seen    bool
}

// Apply applies e to the task, noting whether it is the event looked for.
func (t *taskSeeing) Apply(e domain.Event) error {
	t.seen = t.seen || e.EventID == t.eventID
	return t.Task.Apply(e)
}

func validateCancel(cmd CancelTask) error {
	if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
		return err
	}
	if err := validateCommandID(cmd.CommandID); err != nil {
		return err
	}
	if len(cmd.Reason) > MaxCancelReasonLen {
		return &domain.ValidationError{Field: "reason", Reason: fmt.Sprintf("is %d bytes long; the limit is %d", len(cmd.Reason), MaxCancelReasonLen)}
	}
	if !utf8.ValidString(cmd.Reason) {
		return &domain.ValidationError{Field: "reason", Reason: "must be valid UTF-8"}
	}
	return nil
}

// cancelEventID returns the id of the event a CancelTask appends: derived
// from (tenant, CommandID, task) when the command has an id, random
// otherwise. It stays the same across the handler's attempts: an attempt
// that conflicted wrote nothing.
func cancelEventID(cmd CancelTask) (uuid.UUID, error) {
	if cmd.CommandID != "" {
		return derivedID("cancel_task", "event", cmd.TenantID, cmd.CommandID, cmd.TaskID.String()), nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("cancel task: new event id: %w", err)
	}
	return id, nil
}
