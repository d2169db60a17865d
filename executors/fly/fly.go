package fly

import (
	"context"
	"fmt"
	"net/http"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
)

// Executor runs fly tasks through the Fly Machines API. It holds no
// per-task state: one Executor may run any number of tasks concurrently.
// Create it with New.
type Executor struct {
	cfg Config
}

var _ executors.Executor = (*Executor)(nil)

// New returns an Executor for cfg, with cfg's zero fields set to their
// defaults, or an error naming the fields that cannot work.
func New(cfg Config) (*Executor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Executor{cfg: cfg}, nil
}

// Run runs task, whose Args must be a valid *domain.FlyArgs, and returns
// when its work is over: for a run, when the machine has stopped and been
// destroyed, with the exit code of its exit event; for a deploy, when
// every machine is rolled (exit code 0) or the first one failed (exit code
// 1, the summary and stderr saying what was left in which state). Sink
// calls come from the calling goroutine only, none after Run returns.
//
// Args that cannot work (a secret missing, a machine larger than the
// plan), a token the API refuses (401), an app it does not know (404) and
// a config it refuses (4xx) are *executors.StartError that say what to
// fix. When ctx is done, a run's machine is stopped (SIGTERM, then SIGKILL
// after Config.GracePeriod) and destroyed, a deploy stops before its next
// step, and Run returns an error wrapping context.Cause(ctx).
func (e *Executor) Run(ctx context.Context, task executors.Task, sink executors.Sink) (executors.Result, error) {
	args, ok := task.Args.(*domain.FlyArgs)
	if !ok || args == nil {
		return executors.Result{}, &executors.StartError{Err: fmt.Errorf("fly executor got args of type %T; want a non-nil *domain.FlyArgs from domain.ParseArgs", task.Args)}
	}
	if err := args.Validate(); err != nil {
		return executors.Result{}, &executors.StartError{Err: fmt.Errorf("invalid fly args: %w", err), Permanent: true}
	}
	if err := args.CheckLimits(task.Limits); err != nil {
		return executors.Result{}, &executors.LimitError{Reason: err.Error()}
	}
	token, err := args.Token.Resolve(task.Secrets)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: fmt.Errorf("args.token: %w", err), Permanent: true}
	}
	if ctx.Err() != nil {
		return executors.Result{}, fmt.Errorf("fly task canceled before it started: %w", context.Cause(ctx))
	}
	c := &client{cfg: &e.cfg, app: args.App, token: token}
	if args.Mode == domain.FlyDeploy {
		return e.deploy(ctx, c, task, args, sink)
	}
	return e.run(ctx, c, task, args, sink)
}

// startError turns an error of the calls that start a task into a
// *executors.StartError saying what to fix, when the API refused them for
// a reason the task's args can fix; other errors are returned as they are.
func startError(err error, args *domain.FlyArgs) error {
	tokenIs := fmt.Sprintf("the token in secret %s (args.token)", args.Token.Ref)
	switch statusOf(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &executors.StartError{Err: fmt.Errorf("%w; %s is not a Fly API token that may manage app %s: make one with `fly tokens create deploy -a %s` and store it as the secret", err, tokenIs, args.App, args.App), Permanent: true}
	case http.StatusNotFound:
		return &executors.StartError{Err: fmt.Errorf("%w; app %s does not exist in the organization of %s: create it with `fly apps create %s`, or fix args.app", err, args.App, tokenIs, args.App), Permanent: true}
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusPreconditionFailed:
		return &executors.StartError{Err: fmt.Errorf("%w; check args.image, args.command, args.region and args.guest", err)}
	}
	return err
}

// canceled wraps the cause of ctx's end for a task that it stopped.
func canceled(ctx context.Context, what string) error {
	return fmt.Errorf("fly task canceled %s: %w", what, context.Cause(ctx))
}
