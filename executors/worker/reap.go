package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// Reap asks each executor of the runner that leaves work behind when its
// worker dies (an executors.Reaper: docker's containers) to remove what
// was left of attempts that no longer run: this worker's, since it runs
// nothing yet, and other workers' whose task has moved on. The pool calls
// it when it starts. Errors are logged, not returned: an engine that is
// down must not keep the worker from running other tasks.
func (r *Runner) Reap(ctx context.Context) {
	for adapter, e := range r.cfg.Executors {
		reaper, ok := e.(executors.Reaper)
		if !ok {
			continue
		}
		n, err := reaper.Reap(ctx, r.attemptRunning)
		if err != nil {
			r.cfg.Logger.Warn("worker: could not remove everything that attempts which no longer run left behind", "adapter", adapter, "removed", n, "err", err)
		}
	}
}

// attemptRunning reports whether attempt a runs: its task is running, in
// that attempt, held by that worker.
func (r *Runner) attemptRunning(ctx context.Context, a executors.Attempt) (bool, error) {
	id, err := uuid.Parse(a.TaskID)
	if err != nil {
		return false, nil // not a task of ours: nothing runs it
	}
	var task domain.Task
	switch err := commands.CatchUpTask(ctx, r.store, id, a.TenantID, &task); {
	case errors.Is(err, commands.ErrTaskNotFound):
		return false, nil // never ours, or pruned long after it ended
	case err != nil:
		return false, fmt.Errorf("load task %s: %w", a.TaskID, err)
	}
	return task.Attempt() == a.Attempt && task.HeldBy(a.WorkerID), nil
}
