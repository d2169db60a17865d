package fly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/internal/textcut"
)

// rollout is one deploy: the app's machines, rolled in order.
type rollout struct {
	e        *Executor
	c        *client
	args     *domain.FlyArgs
	sink     executors.Sink
	machines []machine
}

// deploy rolls the app's machines to args.Image one at a time: update,
// wait for the new version to start, wait for its health checks to pass.
// It stops at the first machine that fails and reports what was left in
// which state (exit code 1). The machines of fly runs (those with the
// executor's metadata) are not the app's, and are left alone.
func (e *Executor) deploy(ctx context.Context, c *client, _ executors.Task, args *domain.FlyArgs, sink executors.Sink) (executors.Result, error) {
	ms, err := c.list(ctx, nil, false)
	if err != nil {
		if ctx.Err() != nil {
			return executors.Result{}, canceled(ctx, "before the deploy began")
		}
		return executors.Result{}, startError(err, args)
	}
	ms = slices.DeleteFunc(ms, func(m machine) bool { return m.metadata()[metaTaskID] != "" })
	if len(ms) == 0 {
		return executors.Result{}, &executors.StartError{Err: fmt.Errorf("app %s has no machines to deploy to: create them first (fly deploy, fly machine run), or use mode \"run\"", args.App)}
	}
	r := &rollout{e: e, c: c, args: args, sink: sink, machines: ms}
	sink.Progress(0, fmt.Sprintf("deploying %s to the %d machines of app %s, one at a time", args.Image, len(ms), args.App))
	for i := range ms {
		reason, err := r.roll(ctx, i)
		switch {
		case ctx.Err() != nil:
			r.report(ctx, i, "the deploy was canceled")
			return executors.Result{}, canceled(ctx, fmt.Sprintf("during machine %d/%d", i+1, len(ms)))
		case err != nil:
			reason = err.Error()
		}
		if reason != "" {
			summary := r.report(ctx, i, reason)
			return executors.Result{ExitCode: 1, Summary: summary}, nil
		}
	}
	sink.Progress(100, fmt.Sprintf("deployed %s to all %d machines of app %s", args.Image, len(ms), args.App))
	return executors.Result{ExitCode: 0, Summary: fmt.Sprintf("rolled the %d machines of app %s to %s", len(ms), args.App, args.Image)}, nil
}

// roll moves machine i to the new image and waits until it runs and its
// checks pass. It returns why the machine failed, or an error of the API.
func (r *rollout) roll(ctx context.Context, i int) (failure string, err error) {
	m := &r.machines[i]
	n := len(r.machines)
	progress := func(step float64, what string) {
		r.sink.Progress(100*(float64(i)+step)/float64(n), fmt.Sprintf("machine %d/%d %s: %s", i+1, n, m.ID, what))
	}
	var config map[string]json.RawMessage
	if err := json.Unmarshal(m.Config, &config); err != nil {
		return "", fmt.Errorf("machine %s has a config the executor cannot read: %w", m.ID, err)
	}
	if config == nil {
		return "", fmt.Errorf("machine %s has no config", m.ID)
	}
	config["image"], _ = json.Marshal(r.args.Image)
	progress(0, "updating to "+r.args.Image)
	// A machine that was not running (stopped by autostop, or by hand)
	// gets the new image and stays stopped, as flyctl leaves it.
	asleep := m.State == stateStopped || m.State == "suspended"
	updated, err := r.c.update(ctx, m.ID, config, asleep)
	if err != nil {
		return "", err
	}
	if asleep {
		progress(1, fmt.Sprintf("updated (version %s); it was %s and stays so", updated.InstanceID, m.State))
		return "", nil
	}
	hctx, cancel := context.WithTimeout(ctx, time.Duration(r.args.HealthTimeoutS)*time.Second)
	defer cancel()
	progress(0.3, fmt.Sprintf("updated (version %s); waiting for it to start", updated.InstanceID))
	if failure, err := r.waitStarted(hctx, ctx, m.ID, updated.InstanceID); failure != "" || err != nil {
		return failure, err
	}
	progress(0.6, "started; waiting for its health checks to pass")
	if failure, err := r.waitHealthy(hctx, ctx, m.ID); failure != "" || err != nil {
		return failure, err
	}
	progress(1, "started, health checks passing")
	return "", nil
}

// waitStarted waits, until hctx's deadline, for version instance of
// machine id to start.
func (r *rollout) waitStarted(hctx, ctx context.Context, id, instance string) (failure string, err error) {
	for {
		reached, err := r.c.wait(hctx, id, instance, min(r.e.cfg.WaitTimeout, time.Until(deadline(hctx))), stateStarted)
		if reached {
			return "", nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return "", err
		}
		m, err := r.c.get(ctx, id)
		if err != nil {
			return "", err
		}
		if m.ended() {
			return fmt.Sprintf("it %s instead of starting%s", m.State, exitNote(m)), nil
		}
		if hctx.Err() != nil && ctx.Err() == nil {
			return fmt.Sprintf("it did not start within %ds (state %s)", r.args.HealthTimeoutS, m.State), nil
		}
	}
}

// waitHealthy polls machine id until its health checks all pass, it ends,
// or hctx's deadline passes.
func (r *rollout) waitHealthy(hctx, ctx context.Context, id string) (failure string, err error) {
	for {
		m, err := r.c.get(ctx, id)
		if err != nil {
			return "", err
		}
		if m.ended() {
			return fmt.Sprintf("it %s while its health checks ran%s", m.State, exitNote(m)), nil
		}
		if slices.IndexFunc(m.Checks, func(c checkStatus) bool { return c.Status != "passing" }) < 0 {
			return "", nil
		}
		if err := backoff.Sleep(hctx, r.e.cfg.PollInterval); err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return fmt.Sprintf("its health checks did not all pass within %ds: %s", r.args.HealthTimeoutS, checksNote(m.Checks)), nil
		}
	}
}

// report says on stderr, and returns in a line, where the deploy stopped
// (at machine i, because of reason) and what it left in which state.
func (r *rollout) report(ctx context.Context, i int, reason string) string {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	n := len(r.machines)
	var b strings.Builder
	fmt.Fprintf(&b, "deploy of %s to app %s stopped at machine %d/%d (%s): %s\nmachines left:\n", r.args.Image, r.args.App, i+1, n, r.machines[i].ID, reason)
	for j, m := range r.machines {
		switch {
		case j < i && (m.State == stateStopped || m.State == "suspended"):
			fmt.Fprintf(&b, "  %s: on %s, %s as before\n", m.ID, r.args.Image, m.State)
		case j < i:
			fmt.Fprintf(&b, "  %s: on %s, started, health checks passing\n", m.ID, r.args.Image)
		case j == i:
			now, err := r.c.get(cctx, m.ID)
			if err != nil {
				fmt.Fprintf(&b, "  %s: state unknown (%v)\n", m.ID, err)
				continue
			}
			fmt.Fprintf(&b, "  %s: on %s, %s%s", m.ID, now.image(), now.State, exitNote(now))
			if len(now.Checks) > 0 {
				fmt.Fprintf(&b, ", health checks: %s", checksNote(now.Checks))
			}
			b.WriteString("\n")
		default:
			fmt.Fprintf(&b, "  %s: not touched, still on %s, %s\n", m.ID, m.image(), m.State)
		}
	}
	r.sink.Output(domain.Stderr, []byte(b.String()))
	summary := fmt.Sprintf("deploy stopped at machine %d/%d (%s): %s; %d rolled before it, %d not touched", i+1, n, r.machines[i].ID, reason, i, n-i-1)
	r.sink.Progress(100*float64(i)/float64(n), summary)
	return summary
}

// exitNote describes a machine's last exit, or "".
func exitNote(m *machine) string {
	if e := m.exit(); e != nil && m.ended() {
		return fmt.Sprintf(" (exit code %d)", e.ExitCode)
	}
	return ""
}

// checksNote lists health checks with their status and output.
func checksNote(checks []checkStatus) string {
	parts := make([]string, 0, len(checks))
	for _, c := range checks {
		s := c.Name + " " + c.Status
		if c.Output != "" {
			s += " (" + textcut.Clip(c.Output, 200) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// deadline returns ctx's deadline, or an hour from now.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Hour)
}
