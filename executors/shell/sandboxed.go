package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/sandbox"
)

// sandboxJob is a task running in a sandbox.
type sandboxJob struct {
	p      *sandbox.Process
	exit   sandbox.Exit
	waited chan struct{} // closed once exit is set: the sandbox is gone
}

// startSandboxed starts a task's command in a new sandbox, with args.env
// resolved (extra) and stdout and stderr on outW and errW.
func (e *Executor) startSandboxed(task executors.Task, args *domain.ShellArgs, extra map[string]string, outW, errW *os.File) (job, error) {
	cwd, err := domain.CleanCwd(args.Cwd)
	if err != nil {
		return nil, &executors.StartError{Err: err}
	}
	p, err := e.cfg.Sandbox.Start(sandbox.Request{
		TaskID: task.ID, Attempt: task.Attempt,
		Argv: args.Command, Env: sandboxEnv(e.cfg.EnvAllowList, extra), Cwd: cwd,
		Limits: task.Limits, Stdout: outW, Stderr: errW,
	})
	if err != nil {
		return nil, fmt.Errorf("start the task's sandbox: %w", err)
	}
	j := &sandboxJob{p: p, waited: make(chan struct{})}
	go func() {
		j.exit = p.Wait()
		close(j.waited)
	}()
	return j, nil
}

// sandboxEnv is the environment of a sandboxed task: the allow-listed
// worker variables that make sense inside (not the worker's PATH, HOME,
// TMPDIR or USER), the sandbox's own, then args.env over them.
func sandboxEnv(allow []string, extra map[string]string) []string {
	own := map[string]string{"PATH": sandbox.DefaultPath, "HOME": sandbox.WorkDir, "TMPDIR": "/tmp", "USER": "task"}
	kept := make([]string, 0, len(allow))
	for _, k := range allow {
		if _, ok := own[k]; !ok {
			kept = append(kept, k)
		}
	}
	for k, v := range extra {
		own[k] = v
	}
	return environ(kept, own)
}

func (j *sandboxJob) done() <-chan struct{} { return j.waited }

// stop: init has stopped the leftovers of a command that exited; a
// canceled task gets SIGTERM, then its whole sandbox is killed.
func (j *sandboxJob) stop(canceled bool, grace time.Duration) bool {
	if !canceled {
		return true
	}
	j.p.Terminate()
	if waitFor(j.waited, grace) {
		return true
	}
	j.p.Kill()
	return waitFor(j.waited, reapTimeout)
}

// waitFor waits until c is closed or d has passed; it reports whether c closed.
func waitFor(c <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return true
	case <-t.C:
		return false
	}
}

func (j *sandboxJob) result(ctx context.Context, canceled, dead bool) (executors.Result, error) {
	x := j.exit
	switch {
	case !dead:
		return executors.Result{}, fmt.Errorf("shell task canceled (its sandbox survived SIGKILL): %w", context.Cause(ctx))
	case x.Limit != "":
		return executors.Result{}, &executors.LimitError{Reason: x.Limit}
	case canceled:
		return executors.Result{}, fmt.Errorf("shell task canceled: %w", context.Cause(ctx))
	case x.StartError != "":
		return executors.Result{}, &executors.StartError{Err: errors.New(x.StartError)}
	case x.Err != nil:
		return executors.Result{}, fmt.Errorf("shell task: %w", x.Err)
	}
	return exitResult(x.Code, x.Signal, x.Leftovers), nil
}

func (j *sandboxJob) cleanup() { j.p.Close() }
