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
// nothing yet, and other workers' whose task has moved on. Work of tasks
// this store does not know is left alone: another deployment sharing the
// engine may be running it. The pool calls
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
// that attempt, held by that worker; or its task is not one this store
// knows, which may be another deployment's, and is answered running so
// that it is left alone.
func (r *Runner) attemptRunning(ctx context.Context, a executors.Attempt) (bool, error) {
	id, err := uuid.Parse(a.TaskID)
	if err != nil {
		return true, nil // not a task id of ours: another deployment's
	}
	var task domain.Task
	switch err := commands.CatchUpTask(ctx, r.store, id, a.TenantID, &task); {
	case errors.Is(err, commands.ErrTaskNotFound):
		return true, nil // another deployment's, sharing the engine
	case err != nil:
		return false, fmt.Errorf("load task %s: %w", a.TaskID, err)
	}
	return task.Attempt() == a.Attempt && task.HeldBy(a.WorkerID), nil
}
