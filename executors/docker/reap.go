package docker

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/axontask/axontask/executors"
)

// Reap removes the containers of the engine labelled as attempts of
// tasks (Labels) that no longer run: those of this executor's worker
// (Config.WorkerID; Reap is called when the worker starts, before it runs
// anything), and those of other workers for which running answers false —
// a worker that died and never came back. running nil leaves other
// workers' containers alone. It returns how many containers it removed,
// and the errors of those it could not.
func (e *Executor) Reap(ctx context.Context, running executors.RunningFunc) (int, error) {
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelTask)})
	if err != nil {
		return 0, fmt.Errorf("list the engine's task containers: %w", e.engineError(err))
	}
	removed := 0
	var errs []error
	for _, c := range list.Items {
		attempt, _ := strconv.Atoi(c.Labels[LabelAttempt])
		a := executors.Attempt{TaskID: c.Labels[LabelTask], TenantID: c.Labels[LabelTenant], WorkerID: c.Labels[LabelWorker], Attempt: attempt}
		if a.WorkerID != e.cfg.WorkerID {
			if running == nil {
				continue
			}
			alive, err := running(ctx, a)
			if err != nil {
				errs = append(errs, err)
			}
			if err != nil || alive {
				continue
			}
		}
		_, err := e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil:
			removed++
			e.cfg.Logger.Info("docker: removed the container of a task attempt that no longer runs", "task_id", a.TaskID, "attempt", a.Attempt, "worker_id", a.WorkerID, "container", c.ID)
		case !cerrdefs.IsNotFound(err):
			errs = append(errs, fmt.Errorf("remove container %s of task %s: %w", c.ID, a.TaskID, err))
		}
	}
	return removed, errors.Join(errs...)
}
