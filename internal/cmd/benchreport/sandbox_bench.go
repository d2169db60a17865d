package main

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/executors/shell"
)

// sandboxCost measures what the sandbox adds to a shell task: the time
// from Run to its return for `true`, on the host and in a sandbox (with
// cgroups when the process may make them), in alternating rounds of
// sandboxRuns tasks on each side.
func (b *bench) sandboxCost(context.Context) ([]row, error) {
	sb, err := sandbox.New(sandbox.Config{})
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer sb.Close()
	hostExec, err := shell.New(shell.Config{})
	if err != nil {
		return nil, err
	}
	sbExec, err := shell.New(shell.Config{Sandbox: sb})
	if err != nil {
		return nil, err
	}
	var host, boxed []time.Duration
	for range b.cfg.rounds {
		for _, side := range []struct {
			e   *shell.Executor
			out *[]time.Duration
		}{{hostExec, &host}, {sbExec, &boxed}} {
			for i := range b.cfg.sandboxRuns {
				task := executors.Task{ID: fmt.Sprintf("bench-%d", i), Adapter: domain.AdapterShell, Attempt: 1,
					Args: &domain.ShellArgs{Command: []string{"true"}}, Limits: domain.TaskLimits{MemoryBytes: 512 << 20, Pids: 128, WorkDirBytes: 1 << 30}}
				start := time.Now()
				if _, err := side.e.Run(context.Background(), task, discardSink{}); err != nil {
					return nil, err
				}
				*side.out = append(*side.out, time.Since(start))
			}
		}
	}
	hp, bp := percentile(host, 0.5), percentile(boxed, 0.5)
	return []row{
		{"shell task `true`, start to end, on the host (p50)", hp.Round(10 * time.Microsecond).String(), "—", fmt.Sprintf("%d runs", len(host))},
		{"the same in a sandbox (p50, p99)", fmt.Sprintf("%s, %s", bp.Round(10*time.Microsecond), percentile(boxed, 0.99).Round(10*time.Microsecond)), "—",
			fmt.Sprintf("%.1f× the host; cgroups %s, Landlock ABI %d, work directory: %s", float64(bp)/float64(hp), sb.Report.Cgroups, sb.Report.Landlock, sb.Report.WorkDir)},
	}, nil
}

// discardSink drops a task's output.
type discardSink struct{}

func (discardSink) Output(domain.OutputStream, []byte) {}
func (discardSink) Progress(float64, string)           {}
