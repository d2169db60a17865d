package fly

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Machine states the executor tells apart.
const (
	stateStarted   = "started"
	stateStopped   = "stopped"
	stateDestroyed = "destroyed"
	stateFailed    = "failed"
)

// Metadata keys the executor sets on the machines it creates.
const (
	metaTaskID  = "axontask_task_id"
	metaAttempt = "axontask_attempt"
)

// machine is what the executor reads of a Machines API machine.
type machine struct {
	ID         string          `json:"id"`
	State      string          `json:"state"`
	Region     string          `json:"region"`
	InstanceID string          `json:"instance_id"`
	Config     json.RawMessage `json:"config"`
	Events     []machineEvent  `json:"events"`
	Checks     []checkStatus   `json:"checks"`
}

// machineEvent is one of a machine's events (the API lists them newest
// first).
type machineEvent struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Request *struct {
		ExitEvent    *exitEvent `json:"exit_event"`
		MonitorEvent *struct {
			ExitEvent *exitEvent `json:"exit_event"`
		} `json:"MonitorEvent"`
	} `json:"request"`
}

// exitEvent says how a machine's main process ended.
type exitEvent struct {
	ExitCode      int  `json:"exit_code"`
	RequestedStop bool `json:"requested_stop"`
	OOMKilled     bool `json:"oom_killed"`
}

// checkStatus is one health check's state.
type checkStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Output string `json:"output"`
}

// metadata returns the machine's config.metadata.
func (m *machine) metadata() map[string]string {
	var c struct {
		Metadata map[string]string `json:"metadata"`
	}
	_ = json.Unmarshal(m.Config, &c)
	return c.Metadata
}

// image returns the machine's config.image.
func (m *machine) image() string {
	var c struct {
		Image string `json:"image"`
	}
	_ = json.Unmarshal(m.Config, &c)
	return c.Image
}

// exit returns the latest exit event, or nil.
func (m *machine) exit() *exitEvent {
	for _, e := range m.Events { // newest first
		if e.Type != "exit" || e.Request == nil {
			continue
		}
		if e.Request.MonitorEvent != nil && e.Request.MonitorEvent.ExitEvent != nil {
			return e.Request.MonitorEvent.ExitEvent
		}
		if e.Request.ExitEvent != nil {
			return e.Request.ExitEvent
		}
	}
	return nil
}

// ended reports whether the machine's process is over.
func (m *machine) ended() bool {
	return m.State == stateStopped || m.State == stateDestroyed || m.State == stateFailed || m.State == "destroying"
}

// machineConfig is the config of a run's machine.
type machineConfig struct {
	Image       string            `json:"image"`
	Init        machineInit       `json:"init"`
	Env         map[string]string `json:"env,omitempty"`
	Guest       machineGuest      `json:"guest"`
	AutoDestroy bool              `json:"auto_destroy"`
	Restart     machineRestart    `json:"restart"`
	Metadata    map[string]string `json:"metadata"`
}

type machineInit struct {
	Cmd []string `json:"cmd,omitempty"`
}

type machineGuest struct {
	CPUKind  string `json:"cpu_kind"`
	CPUs     int    `json:"cpus"`
	MemoryMB int    `json:"memory_mb"`
}

type machineRestart struct {
	Policy string `json:"policy"`
}

// createRequest is the body of a create or an update.
type createRequest struct {
	Name       string `json:"name,omitempty"`
	Region     string `json:"region,omitempty"`
	Config     any    `json:"config"`
	SkipLaunch bool   `json:"skip_launch,omitempty"`
}

// create creates a machine. It is not retried on a 5xx: the machine may
// exist (see Executor.findOrCreate).
func (c *client) create(ctx context.Context, req createRequest) (*machine, error) {
	var m machine
	if err := c.call(ctx, http.MethodPost, c.machinesPath("", nil), req, &m, callOpts{once: true}); err != nil {
		return nil, fmt.Errorf("create a machine in app %s: %w", c.app, err)
	}
	return &m, nil
}

// list lists the app's machines, those whose metadata holds meta only
// (the API filters by metadata.{key}; the list is filtered again here),
// destroyed ones too when withDestroyed.
func (c *client) list(ctx context.Context, meta map[string]string, withDestroyed bool) ([]machine, error) {
	q := url.Values{}
	for k, v := range meta {
		q.Set("metadata."+k, v)
	}
	if withDestroyed {
		q.Set("include_deleted", "true")
	}
	var ms []machine
	if err := c.call(ctx, http.MethodGet, c.machinesPath("", q), nil, &ms, callOpts{}); err != nil {
		return nil, fmt.Errorf("list the machines of app %s: %w", c.app, err)
	}
	out := ms[:0]
	for _, m := range ms {
		match := withDestroyed || m.State != stateDestroyed
		md := m.metadata()
		for k, v := range meta {
			match = match && md[k] == v
		}
		if match {
			out = append(out, m)
		}
	}
	return out, nil
}

// get returns a machine.
func (c *client) get(ctx context.Context, id string) (*machine, error) {
	var m machine
	if err := c.call(ctx, http.MethodGet, c.machinesPath("/"+url.PathEscape(id), nil), nil, &m, callOpts{}); err != nil {
		return nil, fmt.Errorf("get machine %s: %w", id, err)
	}
	return &m, nil
}

// update replaces a machine's config; the machine restarts as a new
// version, which the answer describes, unless skipLaunch (it stays
// stopped).
func (c *client) update(ctx context.Context, id string, config map[string]json.RawMessage, skipLaunch bool) (*machine, error) {
	var m machine
	if err := c.call(ctx, http.MethodPost, c.machinesPath("/"+url.PathEscape(id), nil), createRequest{Config: config, SkipLaunch: skipLaunch}, &m, callOpts{}); err != nil {
		return nil, fmt.Errorf("update machine %s: %w", id, err)
	}
	return &m, nil
}

// wait waits up to timeout (whole seconds, 1 to 60) for the machine, its
// version instance when not empty, to be in one of states. It returns
// reached false, and no error, when the API answers 408.
func (c *client) wait(ctx context.Context, id, instance string, timeout time.Duration, states ...string) (reached bool, err error) {
	q := url.Values{"state": states, "timeout": {strconv.Itoa(int(min(max(timeout, time.Second), time.Minute) / time.Second))}}
	if instance != "" {
		q.Set("instance_id", instance)
	}
	err = c.call(ctx, http.MethodGet, c.machinesPath("/"+url.PathEscape(id)+"/wait", q), nil, nil, callOpts{})
	if statusOf(err) == http.StatusRequestTimeout {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("wait for machine %s to be %v: %w", id, states, err)
	}
	return true, nil
}

// stop asks a machine's process to stop: SIGTERM, then SIGKILL after
// grace.
func (c *client) stop(ctx context.Context, id string, grace time.Duration) error {
	in := map[string]string{"signal": "SIGTERM", "timeout": grace.String()}
	if err := c.call(ctx, http.MethodPost, c.machinesPath("/"+url.PathEscape(id)+"/stop", nil), in, nil, callOpts{}); err != nil {
		return fmt.Errorf("stop machine %s: %w", id, err)
	}
	return nil
}

// destroy destroys a machine, running or not. A machine already gone is
// not an error.
func (c *client) destroy(ctx context.Context, id string) error {
	err := c.call(ctx, http.MethodDelete, c.machinesPath("/"+url.PathEscape(id), url.Values{"force": {"true"}}), nil, nil, callOpts{})
	if err != nil && statusOf(err) != http.StatusNotFound {
		return fmt.Errorf("destroy machine %s: %w", id, err)
	}
	return nil
}

// logPage is one answer of the logs API.
type logPage struct {
	Data []struct {
		Attributes struct {
			Message string `json:"message"`
		} `json:"attributes"`
	} `json:"data"`
	Meta struct {
		NextToken string `json:"next_token"`
	} `json:"meta"`
}

// logs returns the log lines of a machine after token, and the token to
// pass next.
func (c *client) logs(ctx context.Context, id, token string) (lines []string, next string, err error) {
	q := url.Values{"instance": {id}}
	if token != "" {
		q.Set("next_token", token)
	}
	var p logPage
	u := c.cfg.LogsURL + "/api/v1/apps/" + url.PathEscape(c.app) + "/logs?" + q.Encode()
	if err := c.call(ctx, http.MethodGet, u, nil, &p, callOpts{}); err != nil {
		return nil, token, fmt.Errorf("read the logs of machine %s: %w", id, err)
	}
	for _, d := range p.Data {
		lines = append(lines, d.Attributes.Message)
	}
	if p.Meta.NextToken == "" {
		p.Meta.NextToken = token
	}
	return lines, p.Meta.NextToken, nil
}
