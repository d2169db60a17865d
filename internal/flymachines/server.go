package flymachines

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pageSize is how many log entries one logs answer holds at most.
const pageSize = 100

// maxWait is the longest /wait waits (Fly's proxy cuts requests at 60 s).
const maxWait = 60 * time.Second

// Fault is an answer that the next matching requests get instead of the
// API's.
type Fault struct {
	// Method and PathContains select the requests (empty: any).
	Method, PathContains string
	// Status is the answer's status (429, 500, 503 …).
	Status int
	// RetryAfter, when set, is the Retry-After header (seconds).
	RetryAfter string
	// Times is how many requests get it (at least 1).
	Times int
	// After: the request is carried out first, and its answer lost (a
	// create that created the machine but answered 500).
	After bool
	// OnAnswer, if set, is called just before the fault's answer is
	// written (a test cancels the caller's context there).
	OnAnswer func()
}

// Server is the double. Create it with Start; it is safe for concurrent use.
type Server struct {
	// URL is the base of both APIs: the Machines API under URL+"/v1", the
	// logs under URL+"/api/v1".
	URL   string
	token string

	mu       sync.Mutex
	apps     map[string]map[string]*machine // app → id → machine
	logs     map[string][]logEntry          // app → entries in order
	faults   []Fault
	requests map[string]int // "METHOD kind" → count, see Requests
	seq      int
	changed  chan struct{} // closed on every change of any machine
}

// Start starts a double on loopback that accepts token, with the apps
// named, and stops it when t ends.
func Start(t testing.TB, token string, apps ...string) *Server {
	s := &Server{token: token, apps: map[string]map[string]*machine{}, logs: map[string][]logEntry{}, requests: map[string]int{}, changed: make(chan struct{})}
	for _, a := range apps {
		s.apps[a] = map[string]*machine{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps/{app}/machines", s.handle("create", s.create))
	mux.HandleFunc("GET /v1/apps/{app}/machines", s.handle("list", s.list))
	mux.HandleFunc("GET /v1/apps/{app}/machines/{id}", s.handle("get", s.get))
	mux.HandleFunc("POST /v1/apps/{app}/machines/{id}", s.handle("update", s.update))
	mux.HandleFunc("GET /v1/apps/{app}/machines/{id}/wait", s.handle("wait", s.wait))
	mux.HandleFunc("POST /v1/apps/{app}/machines/{id}/stop", s.handle("stop", s.stop))
	mux.HandleFunc("DELETE /v1/apps/{app}/machines/{id}", s.handle("destroy", s.destroy))
	mux.HandleFunc("GET /api/v1/apps/{app}/logs", s.handle("logs", s.getLogs))
	srv := httptest.NewServer(mux)
	s.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, ms := range s.apps {
			for _, m := range ms {
				m.kill()
			}
		}
	})
	return s
}

// Fail makes the next f.Times requests that match f answer f.Status.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Requests returns how many requests of a kind the double answered, faults
// included: kind is one of create, list, get, update, wait, stop, destroy,
// logs.
func (s *Server) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[kind]
}

// MachineView is what a test sees of a machine.
type MachineView struct {
	ID, State, Image, InstanceID string
	Metadata                     map[string]string
	// Checks maps each health check's name to its status.
	Checks map[string]string
}

// Machines returns the machines of app, destroyed ones included, in the
// order they were created.
func (s *Server) Machines(app string) []MachineView {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MachineView
	for _, m := range s.sorted(app) {
		v := MachineView{ID: m.id, State: m.state, Image: m.config.Image, InstanceID: m.instanceID, Metadata: m.config.Metadata, Checks: map[string]string{}}
		for _, c := range m.checks {
			v.Checks[c.Name] = c.Status
		}
		out = append(out, v)
	}
	return out
}

// AddMachine creates a started machine of app from config, as if the app
// had been deployed before, and returns its id.
func (s *Server) AddMachine(app string, config MachineConfig) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.newMachine(app, config, "")
	s.launch(m)
	return m.id
}

// sorted returns app's machines in creation order; s.mu is held.
func (s *Server) sorted(app string) []*machine {
	ms := make([]*machine, 0, len(s.apps[app]))
	for _, m := range s.apps[app] {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *machine) int { return a.seq - b.seq })
	return ms
}

// apiError is the body of the API's error answers.
type apiError struct {
	Error string `json:"error"`
}

// handle wraps a handler with the token check, the request count and the
// injected faults.
func (s *Server) handle(kind string, h func(w http.ResponseWriter, r *http.Request, app string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[kind]++
		fault := s.takeFault(r)
		_, appOK := s.apps[r.PathValue("app")]
		s.mu.Unlock()
		auth := r.Header.Get("Authorization")
		switch {
		case fault != nil:
			if fault.After && appOK {
				h(httptest.NewRecorder(), r, r.PathValue("app"))
			}
			if fault.OnAnswer != nil {
				fault.OnAnswer()
			}
			if fault.RetryAfter != "" {
				w.Header().Set("Retry-After", fault.RetryAfter)
			}
			writeJSON(w, fault.Status, apiError{Error: http.StatusText(fault.Status)})
		case auth != "Bearer "+s.token && auth != "FlyV1 "+s.token:
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "You must be authenticated to view this."})
		case !appOK:
			writeJSON(w, http.StatusNotFound, apiError{Error: "app not found"})
		default:
			h(w, r, r.PathValue("app"))
		}
	}
}

// takeFault returns the first fault that matches r and counts it down;
// s.mu is held.
func (s *Server) takeFault(r *http.Request) *Fault {
	for i := range s.faults {
		f := s.faults[i]
		if (f.Method == "" || f.Method == r.Method) && strings.Contains(r.URL.Path, f.PathContains) {
			if f.Times <= 1 {
				s.faults = slices.Delete(s.faults, i, i+1)
			} else {
				s.faults[i].Times--
			}
			return &f
		}
	}
	return nil
}

// createRequest is the body of a create or an update.
type createRequest struct {
	Config     *MachineConfig `json:"config"`
	Region     string         `json:"region"`
	Name       string         `json:"name"`
	SkipLaunch bool           `json:"skip_launch"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, app string) {
	var in createRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Config == nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("invalid body: want {\"config\": {…}}: %v", err)})
		return
	}
	if msg := in.Config.invalid(); msg != "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: msg})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.newMachine(app, *in.Config, in.Region)
	if in.Name != "" {
		m.name = in.Name
	}
	if !in.SkipLaunch {
		s.launch(m)
	}
	writeJSON(w, http.StatusOK, m.view())
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, app string) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []machineJSON{}
	for _, m := range s.sorted(app) {
		if (m.state == stateDestroyed && q.Get("include_deleted") != "true") ||
			(q.Get("region") != "" && q.Get("region") != m.region) || (q.Get("state") != "" && q.Get("state") != m.state) {
			continue
		}
		match := true
		for k, vs := range q {
			if key, ok := strings.CutPrefix(k, "metadata."); ok && m.config.Metadata[key] != vs[0] {
				match = false
			}
		}
		if match {
			out = append(out, m.view())
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// machineFor returns the machine of the request, or answers 404; s.mu is
// held.
func (s *Server) machineFor(w http.ResponseWriter, r *http.Request, app string) *machine {
	m, ok := s.apps[app][r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{Error: "machine not found"})
		return nil
	}
	return m
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, app string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.machineFor(w, r, app); m != nil {
		writeJSON(w, http.StatusOK, m.view())
	}
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, app string) {
	var in createRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Config == nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("invalid body: want {\"config\": {…}}: %v", err)})
		return
	}
	if msg := in.Config.invalid(); msg != "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: msg})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineFor(w, r, app)
	if m == nil {
		return
	}
	if m.state == stateDestroyed {
		writeJSON(w, http.StatusPreconditionFailed, apiError{Error: "failed_precondition: machine is destroyed"})
		return
	}
	m.end(128+15, true)
	s.seq++
	m.instanceID = newInstanceID(s.seq)
	m.config = *in.Config
	m.event("update", "replaced", "user")
	if !in.SkipLaunch {
		s.launch(m)
	}
	writeJSON(w, http.StatusOK, m.view())
}

// validWaitStates are the states /wait accepts.
var validWaitStates = []string{stateStarted, stateStopped, "suspended", stateDestroyed}

func (s *Server) wait(w http.ResponseWriter, r *http.Request, app string) {
	q := r.URL.Query()
	states := q["state"]
	if len(states) == 0 {
		states = []string{stateStarted}
	}
	for _, st := range states {
		if !slices.Contains(validWaitStates, st) {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("invalid state %q: want one of %v", st, validWaitStates)})
			return
		}
	}
	timeout := maxWait
	if t := q.Get("timeout"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid timeout: want whole seconds"})
			return
		}
		timeout = min(time.Duration(n)*time.Second, maxWait)
	}
	instance := q.Get("instance_id")
	if instance == "" {
		instance = q.Get("version")
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		m := s.machineFor(w, r, app)
		if m == nil {
			s.mu.Unlock()
			return
		}
		reached := slices.Contains(states, m.state) && (instance == "" || instance == m.instanceID)
		changed := s.changed
		s.mu.Unlock()
		if reached {
			writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			writeJSON(w, http.StatusRequestTimeout, apiError{Error: fmt.Sprintf("deadline_exceeded: machine did not reach %v in time", states)})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request, app string) {
	var in struct {
		Signal  string `json:"signal"`
		Timeout string `json:"timeout"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid body: " + err.Error()})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineFor(w, r, app)
	if m == nil {
		return
	}
	if m.state == stateDestroyed {
		writeJSON(w, http.StatusPreconditionFailed, apiError{Error: "failed_precondition: machine is destroyed"})
		return
	}
	m.end(128+15, true)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) destroy(w http.ResponseWriter, r *http.Request, app string) {
	q := r.URL.Query()
	force := q.Get("force") == "true" || q.Get("kill") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machineFor(w, r, app)
	if m == nil {
		return
	}
	if !force && (m.state == stateStarted || m.state == stateStarting) {
		writeJSON(w, http.StatusPreconditionFailed, apiError{Error: "failed_precondition: unable to destroy machine, not currently stopped (use force=true)"})
		return
	}
	m.end(128+9, true)
	if m.state != stateDestroyed {
		m.setState(stateDestroyed)
		m.event("destroy", stateDestroyed, "user")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// logEntry is one log line.
type logEntry struct {
	seq      int
	instance string
	region   string
	message  string
	at       time.Time
}

func (s *Server) getLogs(w http.ResponseWriter, r *http.Request, app string) {
	q := r.URL.Query()
	after := 0
	if t := q.Get("next_token"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid next_token"})
			return
		}
		after = n
	}
	type attributes struct {
		Timestamp string `json:"timestamp"`
		Message   string `json:"message"`
		Level     string `json:"level"`
		Instance  string `json:"instance"`
		Region    string `json:"region"`
	}
	type datum struct {
		ID         string     `json:"id"`
		Type       string     `json:"type"`
		Attributes attributes `json:"attributes"`
	}
	var out struct {
		Data []datum `json:"data"`
		Meta struct {
			NextToken string `json:"next_token"`
		} `json:"meta"`
	}
	out.Data = []datum{}
	s.mu.Lock()
	last := after
	for _, e := range s.logs[app] {
		if e.seq <= after || (q.Get("instance") != "" && q.Get("instance") != e.instance) {
			continue
		}
		if len(out.Data) == pageSize {
			break
		}
		out.Data = append(out.Data, datum{ID: strconv.Itoa(e.seq), Type: "logs", Attributes: attributes{
			Timestamp: e.at.UTC().Format(time.RFC3339Nano), Message: e.message, Level: "info", Instance: e.instance, Region: e.region}})
		last = e.seq
	}
	s.mu.Unlock()
	out.Meta.NextToken = strconv.Itoa(last)
	writeJSON(w, http.StatusOK, out)
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
