package dashboard

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// newTaskPage is the data of the new template.
type newTaskPage struct {
	Adapter  domain.Adapter
	Adapters []domain.Adapter
	Name     string
	TimeoutS string
	Fields   []argField
	Error    string
}

// title implements titled.
func (newTaskPage) title() string { return "Start a task" }

// newTaskPage shows the start form of the adapter ?adapter= (mock by
// default): an input per argument, from the adapter's schema.
func (d *dashboard) newTaskPage(w http.ResponseWriter, r *http.Request) {
	p, ok := d.newTaskForm(w, r, r.URL.Query().Get("adapter"))
	if !ok {
		return
	}
	d.render(w, r, http.StatusOK, "new", p)
}

// newTaskForm returns the start form of adapter (empty: mock); an unknown
// adapter is answered 400.
func (d *dashboard) newTaskForm(w http.ResponseWriter, r *http.Request, adapter string) (newTaskPage, bool) {
	if adapter == "" {
		adapter = string(domain.AdapterMock)
	}
	p := newTaskPage{Adapter: domain.Adapter(adapter), Adapters: adapters}
	fields, err := argFields(p.Adapter)
	if err != nil {
		d.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Unknown adapter",
			Message: "adapter " + strconv.Quote(adapter) + " is unknown; choose mock, shell, docker or fly."})
		return p, false
	}
	p.Fields = fields
	return p, true
}

// startTask starts a task from the start form and shows it; bad input
// shows the form again with the API's explanation.
func (d *dashboard) startTask(w http.ResponseWriter, r *http.Request) {
	p, ok := d.newTaskForm(w, r, r.PostFormValue("adapter"))
	if !ok {
		return
	}
	p.Name, p.TimeoutS = strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("timeout_s"))
	args, err := argsOf(p.Fields, r.PostFormValue)
	var timeout int
	if err == nil && p.TimeoutS != "" {
		if timeout, err = strconv.Atoi(p.TimeoutS); err != nil || timeout < 0 {
			err = errTimeout
		}
	}
	if err != nil {
		p.Error = err.Error()
		d.render(w, r, http.StatusBadRequest, "new", p)
		return
	}
	started, err := state(r).c.StartTask(r.Context(), client.StartTaskRequest{Name: p.Name, Adapter: p.Adapter, Args: args, Timeout: timeoutOf(timeout)})
	if err != nil {
		p.Error = problemMessage(err)
		d.render(w, r, statusOf(err), "new", p)
		return
	}
	http.Redirect(w, r, "/tasks/"+started.TaskID.String(), http.StatusSeeOther)
}

// errTimeout is a timeout that is not a number of seconds.
var errTimeout = &domain.ValidationError{Field: "timeout_s", Reason: "is not a whole number of seconds; leave it empty for the default"}

// timeoutOf returns s seconds as a duration.
func timeoutOf(s int) time.Duration { return time.Duration(s) * time.Second }
