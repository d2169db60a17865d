package shell

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/internal/command"
)

// hostJob is a task running on the worker's host, in its own process group.
type hostJob struct {
	cmd        *exec.Cmd
	pgid       int
	leaderDone chan struct{}
	leftovers  bool
	removeDir  func()
}

// startOnHost starts a task's command on the worker's host, in a new
// process group, with args.env resolved (extra) and stdout and stderr on
// outW and errW.
func (e *Executor) startOnHost(task executors.Task, args *domain.ShellArgs, extra map[string]string, outW, errW *os.File) (job, error) {
	work, removeDir, err := e.workDir(task.ID)
	if err != nil {
		return nil, &executors.StartError{Err: err}
	}
	dir, err := cwdIn(work, args.Cwd)
	if err != nil {
		removeDir()
		return nil, &executors.StartError{Err: err}
	}
	env := environ(e.cfg.EnvAllowList, extra)
	path, err := command.LookPath(args.Command[0], dir, env)
	if err != nil {
		removeDir()
		return nil, &executors.StartError{Err: err}
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        args.Command,
		Env:         env,
		Dir:         dir,
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		removeDir()
		return nil, &executors.StartError{Err: command.StartError(args.Command[0], path, dir, err)}
	}
	j := &hostJob{cmd: cmd, pgid: cmd.Process.Pid, leaderDone: make(chan struct{}), removeDir: removeDir}
	go func() {
		_ = cmd.Wait() // the status is in cmd.ProcessState
		close(j.leaderDone)
	}()
	return j, nil
}

// cwdIn returns the directory that cwd (args.cwd) names in work, created
// if it is missing.
func cwdIn(work, cwd string) (string, error) {
	rel, err := domain.CleanCwd(cwd)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(work, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create the working directory %q in the task's work directory: %w", cwd, err)
	}
	return dir, nil
}

func (j *hostJob) done() <-chan struct{} { return j.leaderDone }

func (j *hostJob) stop(canceled bool, grace time.Duration) bool {
	j.leftovers = !canceled && groupAlive(j.pgid)
	if canceled || j.leftovers {
		return stopGroup(j.pgid, j.leaderDone, grace)
	}
	return true
}

func (j *hostJob) result(ctx context.Context, canceled, dead bool) (executors.Result, error) {
	switch {
	case canceled && !dead:
		return executors.Result{}, fmt.Errorf("shell task canceled (process group %d survived SIGKILL): %w", j.pgid, context.Cause(ctx))
	case canceled:
		return executors.Result{}, fmt.Errorf("shell task canceled: %w", context.Cause(ctx))
	}
	ps := j.cmd.ProcessState
	sig := 0
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig = int(ws.Signal())
	}
	return exitResult(ps.ExitCode(), sig, j.leftovers), nil
}

func (j *hostJob) cleanup() { j.removeDir() }

// exitResult is the Result of a main process that exited with code, or
// was killed by signal sig (then code is 128+sig, as in shells).
func exitResult(code, sig int, leftovers bool) executors.Result {
	summary := fmt.Sprintf("exit code %d", code)
	if sig != 0 {
		code = 128 + sig
		summary = fmt.Sprintf("killed by signal %d (%s)", sig, syscall.Signal(sig))
	}
	if leftovers {
		summary += "; the processes it left running were stopped"
	}
	return executors.Result{ExitCode: code, Summary: summary}
}
