package readapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// MaxBatchBodyBytes bounds the body of POST /v1/tasks/batch: room for
// commands.MaxBatchTasks tasks of 8 KiB each (a task's own limits still
// hold: args at most domain.MaxArgsBytes).
const MaxBatchBodyBytes = 8 << 20

// batchBody is the body of POST /v1/tasks/batch, a wire.StartTasksRequest
// that decodes itself: up to MaxBatchBodyBytes, each task on its own, so
// that an error names the task's index ("tasks[3].timeout_s").
type batchBody struct {
	tasks []wire.BatchTask
}

func (b *batchBody) decode(w http.ResponseWriter, r *http.Request) error {
	body, err := readBodyUpTo(w, r, MaxBatchBodyBytes)
	if err != nil {
		return err
	}
	var raw struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := decodeJSON(body, &raw); err != nil {
		return err
	}
	b.tasks = make([]wire.BatchTask, len(raw.Tasks))
	for i, task := range raw.Tasks {
		if err := decodeJSON(task, &b.tasks[i]); err != nil {
			return inTask(i, err)
		}
	}
	return nil
}

// inTask names the field of a task's decoding error err inside the
// batch's body.
func inTask(i int, err error) error {
	verr, ok := err.(*domain.ValidationError)
	if !ok {
		return err
	}
	field := fmt.Sprintf("tasks[%d]", i)
	if verr.Field != "body" {
		// encoding/json names a field of the embedded StartTaskRequest by
		// its path through the Go struct; the JSON has no such level.
		field += "." + strings.TrimPrefix(verr.Field, "StartTaskRequest.")
	}
	return &domain.ValidationError{Field: field, Reason: verr.Reason}
}

// batchStarter admits, on POST /v1/tasks/batch, the callers that may
// start tasks, when the route is served.
func (a *api) batchStarter(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.StartBatch == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.caller(w, r, domain.ActionWriteTasks)
}

// startTasks answers POST /v1/tasks/batch. The batch's Idempotency-Key
// header gives each task without an idempotency_key of its own a key of
// its index (commands.StartTasks).
func (a *api) startTasks(_ http.ResponseWriter, r *http.Request, p commands.Principal, req batchBody) (wire.StartedTasks, error) {
	cmd := commands.StartTasks{TenantID: p.TenantID, CommandID: r.Header.Get("Idempotency-Key"), Meta: requestMeta(r, p),
		Tasks: make([]commands.StartTask, len(req.tasks))}
	for i, task := range req.tasks {
		cmd.Tasks[i] = startCommand(task.StartTaskRequest)
		cmd.Tasks[i].CommandID = task.IdempotencyKey
	}
	res, err := a.cfg.StartBatch.Handle(r.Context(), cmd)
	if err != nil {
		return wire.StartedTasks{}, err
	}
	out := wire.StartedTasks{Tasks: make([]wire.StartedTask, len(res.Tasks))}
	for i, t := range res.Tasks {
		out.Tasks[i] = a.started(t.TaskID, p.TenantID)
	}
	return out, nil
}
