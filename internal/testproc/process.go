package testproc

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Process is a server process that a test helper started (postgres,
// redis-server): it can be waited on until it answers, and stopped, from
// any goroutine.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and been reaped
}

// StartProcess starts cmd, which is killed if the test binary dies
// (Pdeathsig, added to cmd.SysProcAttr, which may carry a credential).
func StartProcess(cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// WaitReady calls ready, each call bounded by a second, every interval
// until it succeeds. It gives up with ready's last error once within has
// passed, as soon as the process exits, or when ctx ends.
func (p *Process) WaitReady(ctx context.Context, within, interval time.Duration, ready func(ctx context.Context) error) error {
	deadline := time.Now().Add(within)
	for {
		callCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := ready(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s: %w", within, err)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited (%s) before it was ready: %w", p.cmd.ProcessState, err)
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}

// Stop sends sig and waits for the process to exit; after grace it kills
// it (SIGKILL) and waits for that.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
