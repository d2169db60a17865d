package readapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/projections"
)

// Limits of GET /v1/tasks.
const (
	// DefaultTasksLimit is the page size of a task list without ?limit=.
	DefaultTasksLimit = 20
	// MaxTasksLimit bounds ?limit= of a task list.
	MaxTasksLimit = projections.MaxTaskListLimit
)

// TaskLister reads the task list read model (the event stores implement
// it: projections.TaskViewStore). The list lags the event log slightly;
// GET /mcp/tasks/{id}/status reads the log and sees a caller's own writes.
type TaskLister interface {
	// TaskViewsList returns a page of one tenant's tasks, newest first.
	TaskViewsList(ctx context.Context, q projections.TaskQuery) ([]projections.TaskView, error)
}

// listTasks answers GET
// /v1/tasks?state=&created_after=&created_before=&limit=&cursor=: the
// caller's tenant's tasks, newest first, from the task list read model. The list
// lags the log by the projection's delay (usually milliseconds): a task just
// started may be missing for a moment. A listed task's state is current:
// rows the read model shows unfinished are caught up from the log, and a
// row that no longer matches ?state= is left out (the page may then be
// shorter than the limit, and next_cursor still leads on).
func (a *api) listTasks(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.TaskPage, error) {
	q, err := taskListQuery(r, p.TenantID)
	if err != nil {
		return wire.TaskPage{}, err
	}
	views, err := a.cfg.Tasks.TaskViewsList(r.Context(), q)
	if err != nil {
		return wire.TaskPage{}, err
	}
	resp := wire.TaskPage{Tasks: make([]wire.Task, 0, len(views))}
	for _, v := range views {
		if err := a.catchUpView(r.Context(), &v); err != nil {
			return wire.TaskPage{}, err
		}
		if q.State != "" && v.State != q.State {
			continue // it has moved on since the read model saw it
		}
		task, err := taskOf(v)
		if err != nil {
			return wire.TaskPage{}, err
		}
		resp.Tasks = append(resp.Tasks, task)
	}
	if len(views) == q.Limit { // a full page, before catching up
		last := views[len(views)-1]
		c := encodeTaskCursor(projections.TaskCursor{CreatedAt: last.CreatedAt, TaskID: last.TaskID})
		resp.NextCursor = &c
	}
	return resp, nil
}

// taskOf renders a row of the task list read model as the API shows it.
func taskOf(v projections.TaskView) (wire.Task, error) {
	taskID, err := uuid.Parse(v.TaskID)
	if err != nil {
		return wire.Task{}, fmt.Errorf("task list: task id %q: %w", v.TaskID, err)
	}
	return wire.Task{
		TaskID:    taskID,
		Name:      v.Name,
		Adapter:   domain.Adapter(v.Adapter),
		State:     v.State,
		Attempt:   v.Attempt,
		CreatedAt: wire.Time{Time: v.CreatedAt},
		StartedAt: wire.Time{Time: v.StartedAt},
		EndedAt:   wire.Time{Time: v.EndedAt},
		LastSeq:   v.LastSeq,
	}, nil
}

// catchUpView reads at most catchUpPages pages of catchUpPageSize events
// for one row: a read model further behind than that is left as it is.
const catchUpPages, catchUpPageSize = 10, 100

// catchUpView brings a row that the read model shows unfinished up to the
// task's log, which may be a few milliseconds ahead: a client that saw its
// task end is never told that it runs (read your writes). A finished row
// has nothing more to learn; an unfinished one costs one read of the
// events after it, none when the read model is current.
func (a *api) catchUpView(ctx context.Context, v *projections.TaskView) error {
	for range catchUpPages {
		if v.State.Terminal() {
			return nil
		}
		page, err := a.cfg.Store.ReadStream(ctx, v.TaskID, v.LastSeq, catchUpPageSize)
		if err != nil {
			return fmt.Errorf("task list: catch up task %s: %w", v.TaskID, err)
		}
		for i := range page {
			if _, err := projections.EvolveTaskView(v, &page[i]); err != nil {
				return fmt.Errorf("task list: catch up task %s: %w", v.TaskID, err)
			}
		}
		if len(page) < catchUpPageSize {
			return nil
		}
	}
	return nil
}

// taskListReader admits the callers that may read tasks, when the task
// list is served at all (Config.Tasks; 404 otherwise).
func (a *api) taskListReader(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.Tasks == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.caller(w, r, domain.ActionReadTasks)
}

// taskListQuery reads the query parameters of GET /v1/tasks; its errors
// name the parameter that is wrong.
func taskListQuery(r *http.Request, tenantID string) (projections.TaskQuery, error) {
	params := r.URL.Query()
	q := projections.TaskQuery{TenantID: tenantID, Limit: DefaultTasksLimit}
	if params.Has("state") {
		q.State = domain.TaskState(params.Get("state"))
		if !projections.ValidState(q.State) {
			return q, &domain.ValidationError{Field: "state", Reason: "is " + strconv.Quote(string(q.State)) +
				"; it must be one of created, queued, running, succeeded, failed, canceled, timed_out"}
		}
	}
	if params.Has("limit") {
		n, err := strconv.Atoi(params.Get("limit"))
		if err != nil || n < 1 || n > MaxTasksLimit {
			return q, &domain.ValidationError{Field: "limit", Reason: "is " + strconv.Quote(params.Get("limit")) +
				"; it must be an integer between 1 and " + strconv.Itoa(MaxTasksLimit)}
		}
		q.Limit = n
	}
	for _, b := range []struct {
		name string
		to   *time.Time
	}{{"created_after", &q.CreatedAfter}, {"created_before", &q.CreatedBefore}} {
		if !params.Has(b.name) {
			continue
		}
		t, err := wire.ParseTimeParam(b.name, params.Get(b.name))
		if err != nil {
			return q, err
		}
		*b.to = t
	}
	if c := params.Get("cursor"); c != "" {
		after, ok := decodeTaskCursor(c)
		if !ok {
			return q, &domain.ValidationError{Field: "cursor", Reason: "is not a cursor this API issued; pass next_cursor from the previous page unchanged, or omit it for the first page"}
		}
		q.After = &after
	}
	return q, q.Validate()
}

// encodeTaskCursor renders c opaquely: base64url of "<created_at unix
// microseconds>.<task id>". Clients must pass it back unchanged.
func encodeTaskCursor(c projections.TaskCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.TaskID))
}

func decodeTaskCursor(s string) (projections.TaskCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return projections.TaskCursor{}, false
	}
	micros, id, ok := strings.Cut(string(b), ".")
	if !ok {
		return projections.TaskCursor{}, false
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || us <= 0 {
		return projections.TaskCursor{}, false
	}
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return projections.TaskCursor{}, false
	}
	return projections.TaskCursor{CreatedAt: time.UnixMicro(us).UTC(), TaskID: id}, true
}
