package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// MaxBatchTasks bounds the tasks of one StartTasks: one AppendBatch
// appends them all.
const MaxBatchTasks = eventstore.MaxBatchParts

// StartTasks starts many tasks at once, all or none: a backlog handed over
// in one command, one commit for all their events.
type StartTasks struct {
	// TenantID owns the tasks; it comes from the caller's credentials.
	TenantID string
	// Tasks are the starts, 1 to MaxBatchTasks, each as StartTask takes it.
	// Their TenantID and Meta are the batch's (their own are replaced).
	// A task's CommandID, when set, is its own idempotency key, the very
	// one a single StartTask would take: retried, in any batch or alone, it
	// finds the same task. No two tasks may have the same CommandID.
	Tasks []StartTask
	// CommandID, when set, makes the batch idempotent per tenant: each task
	// without a CommandID of its own gets one derived from this one and the
	// task's index, so that a retried batch (same tasks, same order) finds
	// the tasks the first one started.
	CommandID string
	// Meta is stored with every event of every task.
	Meta domain.Metadata
}

// StartTasksResult is what a StartTasks stored: each task's result, in the
// order of StartTasks.Tasks.
type StartTasksResult struct {
	Tasks []StartTaskResult
}

// BatchTaskError reports the task of a StartTasks that failed the whole
// batch: nothing of the batch was stored.
type BatchTaskError struct {
	// Index is the task's index in StartTasks.Tasks.
	Index int
	// OwnCommandID is whether the task has a CommandID of its own (not
	// derived from the batch's): an ErrCommandIDReused is about that one.
	OwnCommandID bool
	// Err is what the task failed with: a *domain.ValidationError naming
	// the task's field, ErrCommandIDReused, ErrTaskExists, ….
	Err error
}

func (e *BatchTaskError) Error() string {
	return fmt.Sprintf("tasks[%d]: %v", e.Index, e.Err)
}

// Unwrap returns the task's own error.
func (e *BatchTaskError) Unwrap() error { return e.Err }

// BatchStore is what StartTasksHandler needs of the event store: its
// streams and AppendBatch (both engines' stores have them).
type BatchStore interface {
	StreamStore
	eventstore.BatchAppender
}

// StartTasksHandler handles StartTasks. It is safe for concurrent use.
type StartTasksHandler struct {
	s     starter
	batch eventstore.BatchAppender
}

// NewStartTasksHandler returns a handler that appends to store, with the
// limits, clock and quotas of cfg, as StartTaskHandler applies them. It
// fails when cfg, with its defaults, cannot work.
func NewStartTasksHandler(store BatchStore, cfg StartTaskConfig) (*StartTasksHandler, error) {
	s, err := newStarter(store, cfg)
	if err != nil {
		return nil, err
	}
	return &StartTasksHandler{s: s, batch: store}, nil
}

// Handle validates every task of cmd as StartTaskHandler does, then
// appends each one's task.created and task.queued to its new stream, all
// in one AppendBatch: every task is started or none is. The first task
// that fails fails the batch with a *BatchTaskError naming its index
// (wrapping a *domain.ValidationError for invalid input, whose field is
// the task's), and nothing is stored; a batch of no tasks or more than
// MaxBatchTasks, or an invalid tenant or CommandID, fails with a
// *domain.ValidationError. A repeated batch (every task's command id, own
// or derived, already started it) returns the tasks the first one started
// and writes nothing; a batch of which only some tasks were started before
// fails (the first such task's error: ErrTaskExists or
// ErrCommandIDReused). With Quotas, the batch counts as len(cmd.Tasks)
// starts against the daily cap, all at once: a batch that would pass the
// cap fails whole with a *QuotaExceededError (its Fit says how many would
// fit), and a batch that does not happen is not counted.
func (h *StartTasksHandler) Handle(ctx context.Context, cmd StartTasks) (StartTasksResult, error) {
	if err := validateBatch(cmd); err != nil {
		return StartTasksResult{}, err
	}
	limits, plan, err := h.s.limits(ctx, cmd.TenantID)
	if err != nil {
		return StartTasksResult{}, err
	}
	starts, parts, err := h.prepare(cmd, limits)
	if err != nil {
		return StartTasksResult{}, err
	}
	release, err := h.s.reserve(ctx, cmd.TenantID, plan, starts)
	if err != nil {
		return StartTasksResult{}, err
	}
	stored, err := h.batch.AppendBatch(ctx, parts)
	res, err := batchResult(cmd, starts, stored, err)
	if err != nil && release != nil {
		release()
	}
	return res, err
}

// validateBatch checks what cmd holds beside its tasks.
func validateBatch(cmd StartTasks) error {
	if n := len(cmd.Tasks); n < 1 || n > MaxBatchTasks {
		return &domain.ValidationError{Field: "tasks", Reason: fmt.Sprintf("holds %d tasks; send 1 to %d (split a larger backlog into several batches)", n, MaxBatchTasks)}
	}
	if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
		return err
	}
	return validateCommandID(cmd.CommandID)
}

// prepare validates every task of cmd and returns their starts and the
// parts of their AppendBatch, in order.
func (h *StartTasksHandler) prepare(cmd StartTasks, limits timeoutLimits) ([]preparedStart, []eventstore.StreamAppend, error) {
	starts := make([]preparedStart, len(cmd.Tasks))
	parts := make([]eventstore.StreamAppend, len(cmd.Tasks))
	first := make(map[uuid.UUID]int, len(cmd.Tasks))
	for i, task := range cmd.Tasks {
		task.TenantID, task.Meta = cmd.TenantID, cmd.Meta
		if task.CommandID == "" && cmd.CommandID != "" {
			task.CommandID = batchTaskCommandID(cmd.TenantID, cmd.CommandID, i)
		}
		p, err := h.s.prepare(task, limits)
		if err != nil {
			return nil, nil, &BatchTaskError{Index: i, OwnCommandID: cmd.Tasks[i].CommandID != "", Err: err}
		}
		if j, dup := first[p.taskID]; dup {
			return nil, nil, &BatchTaskError{Index: i, OwnCommandID: true, Err: &domain.ValidationError{Field: "command_id",
				Reason: fmt.Sprintf("starts the same task as tasks[%d]'s; give each task its own", j)}}
		}
		first[p.taskID] = i
		starts[i] = p
		parts[i] = eventstore.StreamAppend{Stream: p.stream, Events: p.events}
	}
	return starts, parts, nil
}

// batchTaskCommandID is the command id of the task at index of a batch
// whose command id is batchID, for a task without one of its own: a UUID,
// an identifier whatever batchID's length.
func batchTaskCommandID(tenantID, batchID string, index int) string {
	return derivedID("start_tasks", "task", tenantID, batchID, strconv.Itoa(index)).String()
}

// batchResult turns what AppendBatch answered (the stored events of each
// part, or err) into the batch's result or error.
func batchResult(cmd StartTasks, starts []preparedStart, stored [][]domain.Event, err error) (StartTasksResult, error) {
	var partErr *eventstore.BatchPartError
	switch {
	case errors.As(err, &partErr) && partErr.Index >= 0 && partErr.Index < len(starts):
		_, err := starts[partErr.Index].result(nil, partErr.Err)
		return StartTasksResult{}, &BatchTaskError{Index: partErr.Index, OwnCommandID: cmd.Tasks[partErr.Index].CommandID != "", Err: err}
	case err != nil:
		return StartTasksResult{}, fmt.Errorf("start %d tasks: %w", len(starts), err)
	case len(stored) != len(starts):
		return StartTasksResult{}, fmt.Errorf("start %d tasks: the store returned %d parts", len(starts), len(stored))
	}
	res := StartTasksResult{Tasks: make([]StartTaskResult, len(starts))}
	for i, p := range starts {
		r, err := p.result(stored[i], nil)
		if err != nil {
			return StartTasksResult{}, &BatchTaskError{Index: i, OwnCommandID: cmd.Tasks[i].CommandID != "", Err: err}
		}
		res.Tasks[i] = r
	}
	return res, nil
}
