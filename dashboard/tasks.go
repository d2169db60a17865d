package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// Bounds of the task list: it shows the newest maxListed tasks that match
// its filters, looking through at most maxScanned.
const (
	maxListed  = 100
	maxScanned = 2000
)

// taskStates are the states the list filters by.
var taskStates = []domain.TaskState{domain.StateQueued, domain.StateRunning, domain.StateSucceeded, domain.StateFailed, domain.StateCanceled, domain.StateTimedOut}

// adapters are the adapters the dashboard offers.
var adapters = []domain.Adapter{domain.AdapterMock, domain.AdapterShell, domain.AdapterDocker, domain.AdapterFly}

// tasksPage is the data of the tasks template.
type tasksPage struct {
	State, Adapter, Name string
	// After and Before are the creation time filters as their inputs
	// hold them (UTC, datetimeLocal), or empty.
	After, Before string
	States        []domain.TaskState
	Adapters      []domain.Adapter
	Tasks         []api.Task
	// More says that more tasks match, or may match, than the list shows.
	More bool
	// Query is the filters' query string, for the live refresh.
	Query string
	// Feed is the tenant's feed through the dashboard, from its current
	// end, of the events that change a row (FeedTypes, the names the
	// page's EventSource listens to): the page re-reads its rows when one
	// comes.
	Feed, FeedTypes string
}

// rowsFeed is tasksPage.Feed and FeedTypes.
var rowsFeed, rowsFeedTypes = func() (string, string) {
	q := url.Values{"after": {api.FeedAfterNow}, "stream_type": {string(domain.StreamTask)}}
	var names []string
	for _, t := range domain.TaskLifecycleTypes {
		q.Add("type", string(t))
		names = append(names, string(t))
	}
	return APIPrefix + "/v1/events?" + q.Encode(), strings.Join(names, " ")
}()

// title implements titled.
func (tasksPage) title() string { return "Tasks" }

// datetimeLocal is the layout of a datetime-local input's value with
// seconds; the input leaves them out when they are zero
// (datetimeLocalMinutes).
const (
	datetimeLocal        = "2006-01-02T15:04:05"
	datetimeLocalMinutes = "2006-01-02T15:04"
)

// parseFilterTime reads a creation time filter: a datetime-local input's
// value, in UTC (the times the dashboard shows are UTC).
func parseFilterTime(v string) (time.Time, bool) {
	for _, layout := range []string{datetimeLocal, datetimeLocalMinutes} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// tasksPage lists the tenant's tasks, newest first, filtered by state and
// creation time (by the API) and by adapter and a part of the name (over
// the listed pages); ?fragment=rows answers the table's rows alone, which
// the page's script fetches again when the tenant's feed says a task
// changed.
func (d *dashboard) tasksPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := tasksPage{State: q.Get("state"), Adapter: q.Get("adapter"), Name: strings.TrimSpace(q.Get("name")), States: taskStates, Adapters: adapters,
		Feed: rowsFeed, FeedTypes: rowsFeedTypes}
	if len(p.Name) > domain.MaxTaskNameLen {
		d.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Filter too long",
			Message: "name is longer than a task name can be (200 bytes); shorten it."})
		return
	}
	opts := client.ListTasksOptions{State: domain.TaskState(p.State), Limit: 100}
	for _, f := range []struct {
		param, label string
		value        *string
		to           *time.Time
	}{{"created_after", "Created after", &p.After, &opts.CreatedAfter}, {"created_before", "Created before", &p.Before, &opts.CreatedBefore}} {
		v := q.Get(f.param)
		if v == "" {
			continue
		}
		t, ok := parseFilterTime(v)
		if !ok {
			d.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Filter not understood",
				Message: f.label + " is not a date and time; give one in UTC, such as 2026-12-01T09:30."})
			return
		}
		*f.to, *f.value = t, t.Format(datetimeLocal)
	}
	filters := url.Values{}
	for k, v := range map[string]string{"state": p.State, "adapter": p.Adapter, "name": p.Name, "created_after": p.After, "created_before": p.Before} {
		if v != "" {
			filters.Set(k, v)
		}
	}
	p.Query = filters.Encode()
	scanned := 0
	for t, err := range state(r).c.AllTasks(r.Context(), opts) {
		if err != nil {
			d.fail(w, r, err)
			return
		}
		if scanned++; scanned > maxScanned {
			p.More = true // more may match among the older tasks
			break
		}
		if (p.Adapter != "" && string(t.Adapter) != p.Adapter) || (p.Name != "" && !strings.Contains(strings.ToLower(t.Name), strings.ToLower(p.Name))) {
			continue
		}
		if len(p.Tasks) == maxListed {
			p.More = true
			break
		}
		p.Tasks = append(p.Tasks, t)
	}
	if q.Get("fragment") == "rows" {
		d.execute(w, r, http.StatusOK, "tasks", "rows", p)
		return
	}
	d.render(w, r, http.StatusOK, "tasks", p)
}

// taskPage is the data of the task template.
type taskPage struct {
	Task    api.Task
	Created domain.TaskCreated
	// Args is the task's args, indented.
	Args string
	// StreamURL is the task's SSE stream through the dashboard.
	StreamURL string
	// ReceiptURL downloads its receipt once it has ended; KeysURL reads
	// the log's published keys, which the receipt is checked against.
	ReceiptURL, KeysURL string
	// EventTypes are the task event types the page's script listens to.
	EventTypes string
	Ended      bool
}

// title implements titled.
func (p taskPage) title() string { return "Task " + p.Created.Name }

// taskEventTypes lists every task event type, for the page's EventSource
// (a named SSE event reaches only its own listener).
var taskEventTypes = func() string {
	var types []string
	for ty := range domain.Samples() {
		if strings.HasPrefix(string(ty), "task.") {
			types = append(types, string(ty))
		}
	}
	slices.Sort(types)
	return strings.Join(types, " ")
}()

// taskPage shows a task: its status and what it was started with; the
// page's script follows its stream (log, progress, timeline) and verifies
// its hash chain as the events arrive.
func (d *dashboard) taskPage(w http.ResponseWriter, r *http.Request) {
	id, ok := d.taskID(w, r)
	if !ok {
		return
	}
	c := state(r).c
	st, err := c.TaskStatus(r.Context(), id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	created, err := d.created(r, id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	args, _ := json.MarshalIndent(created.Args, "", "  ")
	path := "/mcp/tasks/" + id.String()
	d.render(w, r, http.StatusOK, "task", taskPage{Task: st, Created: created, Args: string(args),
		StreamURL: APIPrefix + path + "/stream", ReceiptURL: APIPrefix + path + "/receipt", KeysURL: APIPrefix + "/v1/log/keys",
		EventTypes: taskEventTypes, Ended: st.State.Terminal()})
}

// taskID parses the {id} of r's path; a malformed one is not found.
func (d *dashboard) taskID(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		d.notFound(w, r)
		return uuid.UUID{}, false
	}
	return id, true
}

// created returns what task id was started with: its first event.
func (d *dashboard) created(r *http.Request, id uuid.UUID) (domain.TaskCreated, error) {
	var created domain.TaskCreated
	page, err := state(r).c.TaskEvents(r.Context(), id, client.EventsOptions{Limit: 1})
	if err != nil {
		return created, err
	}
	if len(page.Events) == 1 && page.Events[0].Type == domain.TaskCreatedType {
		_ = json.Unmarshal(page.Events[0].Payload, &created) // pruned: shown without
	}
	return created, nil
}

// cancelTask cancels a task and shows it again.
func (d *dashboard) cancelTask(w http.ResponseWriter, r *http.Request) {
	id, ok := d.taskID(w, r)
	if !ok {
		return
	}
	if err := state(r).c.CancelTask(r.Context(), id, ""); err != nil && statusOf(err) != http.StatusConflict {
		d.fail(w, r, err) // a task that already ended shows its end
		return
	}
	http.Redirect(w, r, "/tasks/"+id.String(), http.StatusSeeOther)
}

// startAgain starts a new task with a task's name, adapter, args, timeout,
// retry policy and interrupt rule, and shows it.
func (d *dashboard) startAgain(w http.ResponseWriter, r *http.Request) {
	id, ok := d.taskID(w, r)
	if !ok {
		return
	}
	created, err := d.created(r, id)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	if created.Name == "" {
		d.render(w, r, http.StatusConflict, "error", errorPage{Title: "Cannot start again",
			Message: "This task's arguments were pruned; start a new task instead."})
		return
	}
	started, err := state(r).c.StartTask(r.Context(), client.StartTaskRequest{Name: created.Name, Adapter: domain.Adapter(created.Adapter),
		Args: created.Args, Timeout: timeoutOf(created.TimeoutS), Retry: created.Retry, OnInterrupt: created.OnInterrupt})
	if err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tasks/"+started.TaskID.String(), http.StatusSeeOther)
}
