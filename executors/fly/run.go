package fly

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/backoff"
)

// run runs a task of mode run: one machine, followed to its end, then
// destroyed.
func (e *Executor) run(ctx context.Context, c *client, task executors.Task, args *domain.FlyArgs, sink executors.Sink) (executors.Result, error) {
	req, err := runRequest(task, args)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	m, found, err := e.findOrCreate(ctx, c, task, req)
	if err != nil {
		if ctx.Err() != nil {
			return executors.Result{}, canceled(ctx, "before its machine was created")
		}
		return executors.Result{}, startError(err, args)
	}
	defer e.destroy(ctx, c, task.ID, m.ID)
	if found {
		sink.Progress(0, fmt.Sprintf("found machine %s of attempt %s again (%s); following it instead of creating another", m.ID, m.metadata()[metaAttempt], m.State))
	} else {
		sink.Progress(0, fmt.Sprintf("created machine %s in region %s", m.ID, m.Region))
	}
	return e.follow(ctx, c, m, sink)
}

// runRequest returns the create request of a run's machine: restart
// policy "no" and auto_destroy, so that the machine runs once and goes
// away even if the worker is lost, and metadata naming the task and the
// attempt, by which a later attempt finds it (findOrCreate).
func runRequest(task executors.Task, args *domain.FlyArgs) (createRequest, error) {
	env, err := args.Env.Resolve(task.Secrets)
	if err != nil {
		return createRequest{}, err
	}
	g := args.Guest.Size()
	return createRequest{Region: args.Region, Config: machineConfig{
		Image:       args.Image,
		Init:        machineInit{Cmd: args.Command},
		Env:         env,
		Guest:       machineGuest{CPUKind: g.CPUKind, CPUs: g.CPUs, MemoryMB: g.MemoryMB},
		AutoDestroy: true,
		Restart:     machineRestart{Policy: "no"},
		Metadata:    map[string]string{metaTaskID: task.ID, metaAttempt: strconv.Itoa(task.Attempt)},
	}}, nil
}

// findOrCreate returns the machine an earlier attempt of the task created
// (found true) after its last recorded failure, or creates one. A create that fails in a way that may
// have created the machine anyway (a 5xx, no answer, ctx ending while it
// was asked) is looked up again before it is retried, so a task never has
// two machines, and when findOrCreate gives up, such a machine is
// destroyed.
func (e *Executor) findOrCreate(ctx context.Context, c *client, task executors.Task, req createRequest) (m *machine, found bool, err error) {
	taskID := task.ID
	meta := map[string]string{metaTaskID: taskID}
	if m, err := e.find(ctx, c, meta, task.LastFailedAttempt); err != nil || m != nil {
		return m, m != nil, err
	}
	for attempt := 1; ; attempt++ {
		m, err := c.create(ctx, req)
		if err == nil {
			return m, false, nil
		}
		if !transient(err) && ctx.Err() == nil {
			return nil, false, err
		}
		if ctx.Err() == nil && attempt < e.cfg.MaxAttempts {
			m, ferr := e.find(ctx, c, meta, task.LastFailedAttempt)
			if ferr == nil && m != nil {
				return m, false, nil
			}
			if ferr == nil {
				ferr = e.cfg.SleepFunc(ctx, c.pause(attempt, err))
			}
			if ferr == nil {
				continue
			}
			err = ferr
		}
		e.destroyAll(ctx, c, taskID)
		return nil, false, err
	}
}

// find returns the machine of the task whose metadata holds meta, or nil:
// one that is not destroyed, or else one that ran to its end and was
// destroyed (its work is done; its exit event says how it ended). A
// machine that was stopped on request (a canceled attempt, a worker that
// shut down) does not count: its work is to be done again; nor does one of
// an attempt up to settled, whose failure the log records (a retry policy
// runs the work again). Should there be more than one live machine, the
// last created is kept and the others are destroyed.
func (e *Executor) find(ctx context.Context, c *client, meta map[string]string, settled int) (*machine, error) {
	ms, err := c.list(ctx, meta, true)
	if err != nil {
		return nil, err
	}
	var live []machine
	var done *machine
	for i, m := range ms {
		if n, err := strconv.Atoi(m.metadata()[metaAttempt]); err == nil && n <= settled {
			continue
		}
		switch exit := m.exit(); {
		case m.State != stateDestroyed && m.State != "destroying":
			live = append(live, m)
		case exit != nil && !exit.RequestedStop:
			done = &ms[i]
		}
	}
	if len(live) == 0 {
		return done, nil
	}
	for _, extra := range live[:len(live)-1] {
		e.destroy(ctx, c, meta[metaTaskID], extra.ID)
	}
	return &live[len(live)-1], nil
}

// follow reports a run's machine's state changes as progress and its logs
// as output until it ends, and returns its exit code. When ctx ends first
// the machine is stopped.
func (e *Executor) follow(ctx context.Context, c *client, m *machine, sink executors.Sink) (executors.Result, error) {
	notes := make(chan string)
	done := make(chan error, 1)
	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	go func() { done <- e.waitEnd(waitCtx, c, m.ID, m.InstanceID, notes) }()
	logs := &logReader{c: c, id: m.ID, sink: sink}
	tick := time.NewTicker(e.cfg.PollInterval)
	defer tick.Stop()
	ctxDone := ctx.Done()
	for {
		select {
		case note := <-notes:
			sink.Progress(50, note)
		case <-tick.C:
			logs.read(ctx)
		case err := <-done:
			if ctx.Err() != nil {
				return e.stopRun(ctx, c, m.ID, logs, sink)
			}
			if err != nil {
				return executors.Result{}, err
			}
			e.drain(ctx, logs)
			return e.result(ctx, c, m.ID, sink)
		case <-ctxDone:
			// The waiter ends too, and its end (above) stops the machine.
			ctxDone = nil
			stopWaiting()
		}
	}
}

// waitEnd waits, through the API's /wait, for the machine to start and
// then to stop (or be destroyed), sending what it sees to notes.
func (e *Executor) waitEnd(ctx context.Context, c *client, id, instance string, notes chan<- string) error {
	note := func(s string) {
		select {
		case notes <- s:
		case <-ctx.Done():
		}
	}
	// A short program may have ended before the first wait: wait for any
	// state from started on.
	reported := false
	for {
		reached, err := c.wait(ctx, id, instance, e.cfg.WaitTimeout, stateStarted, stateStopped, stateDestroyed)
		if statusOf(err) == http.StatusNotFound {
			return nil // destroyed, and gone already
		}
		if err != nil {
			return err
		}
		m, err := c.get(ctx, id)
		if err != nil {
			return err
		}
		if m.ended() {
			return nil
		}
		if reached && !reported {
			note(fmt.Sprintf("machine %s started", id))
			reported = true
		}
		if reached {
			// Started: now wait for its end.
			reached, err := c.wait(ctx, id, instance, e.cfg.WaitTimeout, stateStopped, stateDestroyed)
			if statusOf(err) == http.StatusNotFound || reached {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

// result reads the exit code of an ended machine.
func (e *Executor) result(ctx context.Context, c *client, id string, sink executors.Sink) (executors.Result, error) {
	m, err := c.get(ctx, id)
	if err != nil {
		return executors.Result{}, fmt.Errorf("read how machine %s ended: %w", id, err)
	}
	exit := m.exit()
	if exit == nil {
		return executors.Result{}, fmt.Errorf("machine %s ended (%s) without an exit event: its exit code is unknown", id, m.State)
	}
	sink.Progress(100, fmt.Sprintf("machine %s %s, exit code %d", id, m.State, exit.ExitCode))
	if exit.OOMKilled {
		return executors.Result{}, &executors.LimitError{Reason: fmt.Sprintf("out of memory: machine %s used all of its memory and was killed", id)}
	}
	return executors.Result{ExitCode: exit.ExitCode, Summary: fmt.Sprintf("machine %s exited with code %d", id, exit.ExitCode)}, nil
}

// stopRun stops a run's machine once the task's ctx is done: SIGTERM,
// SIGKILL after the grace period, and reads the last of its logs; the
// machine is destroyed afterwards (run's defer).
func (e *Executor) stopRun(ctx context.Context, c *client, id string, logs *logReader, sink executors.Sink) (executors.Result, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.stop(cctx, id, e.cfg.GracePeriod); err != nil && statusOf(err) != http.StatusNotFound {
		e.cfg.Logger.Warn("fly task: could not stop its machine; it is destroyed instead", "machine_id", id, "err", err)
	} else {
		_, _ = c.wait(cctx, id, "", e.cfg.GracePeriod+5*time.Second, stateStopped, stateDestroyed)
	}
	e.drain(cctx, logs)
	sink.Progress(100, fmt.Sprintf("machine %s stopped: the task was canceled", id))
	return executors.Result{}, canceled(ctx, "while its machine ran")
}

// destroy destroys a task's machine at the end, whatever happened; it is
// also auto_destroy'd by Fly when it stops. A failure is logged: nothing
// else can be done about it here.
func (e *Executor) destroy(ctx context.Context, c *client, taskID, id string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.destroy(cctx, id); err != nil {
		e.cfg.Logger.Warn("fly task: could not destroy its machine; it may be left running", "task_id", taskID, "app", c.app, "machine_id", id, "err", err)
	}
}

// destroyAll destroys the machines of a task, if any, once creating one
// failed in a way that may have created it.
func (e *Executor) destroyAll(ctx context.Context, c *client, taskID string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	ms, err := c.list(cctx, map[string]string{metaTaskID: taskID}, false)
	if err != nil {
		e.cfg.Logger.Warn("fly task: could not look for a machine that a failed create may have left running", "task_id", taskID, "app", c.app, "err", err)
		return
	}
	for _, m := range ms {
		e.destroy(ctx, c, taskID, m.ID)
	}
}

// logReader reads a machine's logs, from where it left off, into a sink.
type logReader struct {
	c       *client
	id      string
	token   string
	sink    executors.Sink
	failing bool
}

// read delivers every log line there is now, as stdout, and returns how
// many; a failure to read them is said once on stderr, until reading works
// again.
func (l *logReader) read(ctx context.Context) int {
	n := 0
	for {
		lines, next, err := l.c.logs(ctx, l.id, l.token)
		if err != nil {
			if !l.failing && ctx.Err() == nil {
				l.sink.Output(domain.Stderr, []byte("axontask: "+err.Error()+"; output may be missing\n"))
			}
			l.failing = true
			return n
		}
		l.failing = false
		if len(lines) > 0 { // one chunk a page
			l.sink.Output(domain.Stdout, []byte(strings.Join(lines, "\n")+"\n"))
		}
		n += len(lines)
		if len(lines) == 0 || next == l.token {
			l.token = next
			return n
		}
		l.token = next
	}
}

// drain reads the last logs of a machine that has stopped: they come a
// little late, so reading goes on until none came for Config.LogSettle.
func (e *Executor) drain(ctx context.Context, logs *logReader) {
	last := time.Now()
	for {
		if logs.read(ctx) > 0 {
			last = time.Now()
		}
		if time.Since(last) >= e.cfg.LogSettle || backoff.Sleep(ctx, e.cfg.PollInterval) != nil {
			return
		}
	}
}
