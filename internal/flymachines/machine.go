package flymachines

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Machine states, as the API names them.
const (
	stateCreated   = "created"
	stateStarting  = "starting"
	stateStarted   = "started"
	stateStopped   = "stopped"
	stateDestroyed = "destroyed"
)

// MachineConfig is the part of a machine's config that the double reads;
// other members of a request are ignored.
type MachineConfig struct {
	Image       string                     `json:"image"`
	Init        Init                       `json:"init"`
	Env         map[string]string          `json:"env,omitempty"`
	Guest       *Guest                     `json:"guest,omitempty"`
	AutoDestroy bool                       `json:"auto_destroy,omitempty"`
	Restart     *Restart                   `json:"restart,omitempty"`
	Metadata    map[string]string          `json:"metadata,omitempty"`
	Checks      map[string]json.RawMessage `json:"checks,omitempty"`
}

// Init is a machine's init config: the program (see the package doc).
type Init struct {
	Exec []string `json:"exec,omitempty"`
	Cmd  []string `json:"cmd,omitempty"`
}

// Guest is a machine's size.
type Guest struct {
	CPUKind  string `json:"cpu_kind"`
	CPUs     int    `json:"cpus"`
	MemoryMB int    `json:"memory_mb"`
}

// Restart is a machine's restart policy. The double records it; a machine
// never restarts by itself.
type Restart struct {
	Policy string `json:"policy"`
}

// invalid says what the API would refuse in c, or "".
func (c *MachineConfig) invalid() string {
	switch {
	case c.Image == "":
		return "invalid config: image is required"
	case c.Guest != nil && c.Guest.CPUKind != "shared" && c.Guest.CPUKind != "performance":
		return fmt.Sprintf("invalid config: guest.cpu_kind %q", c.Guest.CPUKind)
	case c.Guest != nil && (c.Guest.CPUs < 1 || c.Guest.MemoryMB < 256 || c.Guest.MemoryMB%256 != 0):
		return "invalid config: guest.cpus must be positive and guest.memory_mb a positive multiple of 256"
	case c.Restart != nil && c.Restart.Policy != "no" && c.Restart.Policy != "always" && c.Restart.Policy != "on-failure":
		return fmt.Sprintf("invalid config: restart.policy %q", c.Restart.Policy)
	}
	return ""
}

// machine is one machine; every field is guarded by its server's mu.
type machine struct {
	s          *Server
	app        string
	seq        int
	id, name   string
	region     string
	state      string
	instanceID string
	config     MachineConfig
	events     []eventJSON // oldest first; view reverses
	checks     []checkJSON
	created    time.Time
	updated    time.Time
	run        *run // the running program, or nil
}

// run is one run of a machine's program.
type run struct {
	cancel context.CancelFunc
}

// newMachine makes a machine of app in state created; s.mu is held.
func (s *Server) newMachine(app string, config MachineConfig, region string) *machine {
	s.seq++
	if region == "" {
		region = "ams"
	}
	now := time.Now().UTC()
	m := &machine{s: s, app: app, seq: s.seq, id: fmt.Sprintf("%014x", 0xd8e7a1b2c0000+s.seq), region: region,
		instanceID: newInstanceID(s.seq), config: config, created: now}
	m.name = "machine-" + m.id
	s.apps[app][m.id] = m
	m.setState(stateCreated)
	m.event("launch", stateCreated, "user")
	return m
}

// newInstanceID makes the id of a machine's version.
func newInstanceID(n int) string { return fmt.Sprintf("01J%023d", n) }

// launch starts m's program; s.mu is held.
func (s *Server) launch(m *machine) {
	m.setState(stateStarting)
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cancel: cancel}
	m.run = r
	m.setState(stateStarted)
	m.event("start", stateStarted, "user")
	m.checks = nil
	for _, name := range slices.Sorted(maps.Keys(m.config.Checks)) {
		m.checks = append(m.checks, checkJSON{Name: name, Status: "critical", Output: "dial tcp: connection refused"})
	}
	program := m.config.Init.Cmd
	if len(program) == 0 {
		program = m.config.Init.Exec
	}
	if strings.Contains(m.config.Image, "crash") {
		program = []string{"print:crashing", "exit:1"}
	}
	go m.execute(ctx, r, program, m.config)
}

// execute runs program and records its exit, unless the run was ended
// first.
func (m *machine) execute(ctx context.Context, r *run, program []string, config MachineConfig) {
	code := m.interpret(ctx, r, program, config)
	if ctx.Err() != nil {
		return
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.run == r {
		m.end(code, false)
	}
}

// interpret runs the instructions of program and returns the exit code;
// it returns early when ctx is done.
func (m *machine) interpret(ctx context.Context, r *run, program []string, config MachineConfig) int {
	if len(program) == 0 {
		program = []string{"serve"}
	}
	for _, ins := range program {
		op, arg, _ := strings.Cut(ins, ":")
		switch op {
		case "print":
			m.log(r, arg)
		case "printenv":
			m.log(r, config.Env[arg])
		case "exit-if-image":
			if strings.Contains(config.Image, arg) {
				m.log(r, "this image does not work here")
				return 1
			}
		case "lines":
			n, _ := strconv.Atoi(arg)
			for i := 1; i <= n; i++ {
				m.log(r, "line "+strconv.Itoa(i))
			}
		case "sleep":
			d, _ := time.ParseDuration(arg)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return 0
			}
		case "exit":
			n, _ := strconv.Atoi(arg)
			return n
		case "serve":
			m.serving(r)
			<-ctx.Done()
			return 0
		default:
			m.log(r, fmt.Sprintf("exec %q: no such file or directory", ins))
			return 127
		}
	}
	return 0
}

// serving updates the health checks of m's current run once its program
// serves: passing, or critical for a "bad-health" image.
func (m *machine) serving(r *run) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.run != r {
		return
	}
	status, output := "passing", "HTTP GET /: 200 OK"
	if strings.Contains(m.config.Image, "bad-health") {
		status, output = "critical", "HTTP GET /: 500 Internal Server Error"
	}
	for i := range m.checks {
		m.checks[i].Status, m.checks[i].Output = status, output
	}
}

// log appends a log line of m's current run.
func (m *machine) log(r *run, msg string) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.run != r {
		return
	}
	m.s.seq++
	m.s.logs[m.app] = append(m.s.logs[m.app], logEntry{seq: m.s.seq, instance: m.id, region: m.region, message: msg, at: time.Now()})
}

// end ends the running program, if any, with exit code, records the exit
// and stops (or, with auto_destroy, destroys) the machine; s.mu is held.
func (m *machine) end(code int, requested bool) {
	if m.run == nil {
		return
	}
	m.run.cancel()
	m.run = nil
	for i := range m.checks {
		m.checks[i].Status, m.checks[i].Output = "critical", "machine stopped"
	}
	m.setState(stateStopped)
	m.events = append(m.events, eventJSON{Type: "exit", Status: stateStopped, Source: "flyd", Timestamp: time.Now().UnixMilli(),
		Request: &requestJSON{ExitEvent: &exitEventJSON{ExitCode: code, RequestedStop: requested, ExitedAt: time.Now().UTC()}}})
	if m.config.AutoDestroy {
		m.setState(stateDestroyed)
		m.event("destroy", stateDestroyed, "flyd")
	}
}

// kill ends the program without recording anything, when the double stops.
func (m *machine) kill() {
	if m.run != nil {
		m.run.cancel()
	}
}

// setState changes m's state and wakes the waiters; s.mu is held.
func (m *machine) setState(state string) {
	m.state = state
	m.updated = time.Now().UTC()
	close(m.s.changed)
	m.s.changed = make(chan struct{})
}

// event records an event of m; s.mu is held.
func (m *machine) event(typ, status, source string) {
	m.events = append(m.events, eventJSON{Type: typ, Status: status, Source: source, Timestamp: time.Now().UnixMilli()})
}

// machineJSON is a machine as the API shows it.
type machineJSON struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	State      string        `json:"state"`
	Region     string        `json:"region"`
	InstanceID string        `json:"instance_id"`
	Version    string        `json:"version"`
	Config     MachineConfig `json:"config"`
	Events     []eventJSON   `json:"events"`
	Checks     []checkJSON   `json:"checks,omitempty"`
	CreatedAt  string        `json:"created_at"`
	UpdatedAt  string        `json:"updated_at"`
}

type eventJSON struct {
	Type      string       `json:"type"`
	Status    string       `json:"status"`
	Source    string       `json:"source"`
	Timestamp int64        `json:"timestamp"`
	Request   *requestJSON `json:"request,omitempty"`
}

type requestJSON struct {
	ExitEvent *exitEventJSON `json:"exit_event,omitempty"`
}

type exitEventJSON struct {
	ExitCode      int       `json:"exit_code"`
	RequestedStop bool      `json:"requested_stop"`
	ExitedAt      time.Time `json:"exited_at"`
}

type checkJSON struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Output string `json:"output"`
}

// view returns m as the API shows it, events newest first; s.mu is held.
func (m *machine) view() machineJSON {
	v := machineJSON{ID: m.id, Name: m.name, State: m.state, Region: m.region, InstanceID: m.instanceID, Version: m.instanceID,
		Config: m.config, CreatedAt: m.created.Format(time.RFC3339), UpdatedAt: m.updated.Format(time.RFC3339)}
	for i := len(m.events) - 1; i >= 0; i-- {
		v.Events = append(v.Events, m.events[i])
	}
	v.Checks = append(v.Checks, m.checks...)
	return v
}
