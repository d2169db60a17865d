package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/internal/wiring"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi"
)

// benchAPI is the HTTP API served on a prodEnv, as serve wires its task
// endpoints, on loopback, with a tenant and an API key of its own.
type benchAPI struct {
	// base is the API's URL, without a trailing slash.
	base string
	// tenantID is the key's tenant; key is an API key with every scope.
	tenantID, key string
	// start is the API's StartTask handler, for starts made in process.
	start commands.Handler[commands.StartTask, commands.StartTaskResult]
	// client keeps its connections alive between calls and sends the key.
	client *http.Client
}

// serveAPI serves the API on e until e closes: the hub on the live topic,
// the start, batch start and cancel handlers decorated with e's metrics, and a rate
// limit lifted out of the way (one key makes every call).
func (e *prodEnv) serveAPI(ctx context.Context) (*benchAPI, error) {
	sub, err := bus.NewRedisLiveSubscriber(e.rcfg)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { _ = sub.Close() })
	hub, err := readapi.NewHub(readapi.HubConfig{Subscriber: sub})
	if err != nil {
		return nil, err
	}
	if err := hub.Subscribe(e.ctx); err != nil {
		return nil, err
	}
	go func() { _ = hub.Run(e.ctx) }()
	start, err := e.starter()
	if err != nil {
		return nil, err
	}
	startBatch, err := wiring.StartTasks(e.store, e.quotas, nil, e.metrics)
	if err != nil {
		return nil, err
	}
	cancel, err := commands.NewCancelTaskHandler(e.store, commands.CancelTaskConfig{})
	if err != nil {
		return nil, err
	}
	identity, tenantID, key, err := benchIdentity(ctx, e.store)
	if err != nil {
		return nil, err
	}
	api, err := readapi.New(readapi.Config{
		Store: e.store, Hub: hub, Start: start, StartBatch: startBatch, Cancel: commands.Decorate(cancel, nil, e.metrics), TokenKey: bytes.Repeat([]byte("k"), 32),
		Authenticator: identity, Identity: identity.IdentityHandlers,
		RequestLimit: ratelimit.PerMinute(1_000_000),
	})
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.closers = append(e.closers, func() { _ = srv.Close() })
	client := &http.Client{Transport: bearerTransport{key: key, next: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}}
	return &benchAPI{base: "http://" + ln.Addr().String(), tenantID: tenantID, key: key, start: start, client: client}, nil
}

// noopTask is a start_task body of a no-op mock task: one step, no output.
var noopTask = json.RawMessage(`{"name":"noop","adapter":"mock","args":{"steps":1,"interval_ms":0,"output_lines_per_step":0},"timeout_s":60}`)

// startTask starts a no-op task with POST /mcp/start_task and returns its id.
func (a *benchAPI) startTask(ctx context.Context) (string, error) {
	var res struct {
		TaskID string `json:"task_id"`
	}
	if err := a.post(ctx, "/mcp/start_task", noopTask, &res); err != nil {
		return "", err
	}
	return res.TaskID, nil
}

// startTasks starts n no-op tasks with one POST /v1/tasks/batch.
func (a *benchAPI) startTasks(ctx context.Context, n int) error {
	body := append([]byte(`{"tasks":[`), noopTask...)
	for range n - 1 {
		body = append(append(body, ','), noopTask...)
	}
	body = append(body, "]}"...)
	var res struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := a.post(ctx, "/v1/tasks/batch", body, &res); err != nil {
		return err
	}
	if len(res.Tasks) != n {
		return fmt.Errorf("POST /v1/tasks/batch of %d tasks answered %d", n, len(res.Tasks))
	}
	return nil
}

// post sends body to path and decodes a 201 answer into out.
func (a *benchAPI) post(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, msg)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// taskWaiters lets closed-loop clients wait for their tasks to end: the
// store's Committed hook reports each terminal event, and a client waits
// on its task's id, whichever of the two comes first.
type taskWaiters struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// ch returns the channel that closes when task id ends.
func (w *taskWaiters) ch(id string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]chan struct{}{}
	}
	c, ok := w.m[id]
	if !ok {
		c = make(chan struct{})
		w.m[id] = c
	}
	return c
}

// ended reports that task id ended; again (a retried append's hook) is a
// no-op.
func (w *taskWaiters) ended(id string) {
	c := w.ch(id)
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-c:
	default:
		close(c)
	}
}

// wait waits at most timeout for task id to end, then forgets it.
func (w *taskWaiters) wait(ctx context.Context, id string, timeout time.Duration) error {
	c := w.ch(id)
	defer func() {
		w.mu.Lock()
		delete(w.m, id)
		w.mu.Unlock()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c:
		return nil
	case <-t.C:
		return fmt.Errorf("task %s did not end within %s of its start", id, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}
