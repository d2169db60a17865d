package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/executors/shell"
)

// cancelNoisy measures the cancel of a task that prints as fast as it can
// (`yes`, sandboxed), through the production path: the cancel command as
// serve wires it (its hold published on Redis), a worker pool, Postgres.
// It reports how long the cancel call took to answer and how long until
// the task was canceled, from the call, over cancelTasks tasks.
func (b *bench) cancelNoisy(ctx context.Context) ([]row, error) {
	tasks := b.cfg.cancelTasks
	env, err := b.newProdEnv(ctx, "cancel", nil)
	if err != nil {
		return nil, err
	}
	defer env.close()
	sb, err := sandbox.New(sandbox.Config{})
	if err != nil {
		return nil, fmt.Errorf("cancel: %w", err)
	}
	defer sb.Close()
	sh, err := shell.New(shell.Config{Sandbox: sb})
	if err != nil {
		return nil, err
	}
	if err := env.startPool("bench-worker", map[domain.Adapter]executors.Executor{domain.AdapterShell: sh}, 2); err != nil {
		return nil, err
	}
	start, err := env.starter()
	if err != nil {
		return nil, err
	}
	cancel, err := commands.NewCancelTaskHandler(env.store, commands.CancelTaskConfig{HoldOutput: bus.HoldFunc(env.pub, nil)})
	if err != nil {
		return nil, err
	}
	var answered, ended []time.Duration
	for range tasks {
		res, err := start.Handle(ctx, commands.StartTask{TenantID: "bench", Name: "noisy", Adapter: domain.AdapterShell,
			Args: json.RawMessage(`{"command":["yes","xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]}`), TimeoutS: 120})
		if err != nil {
			return nil, err
		}
		if err := b.waitSeq(ctx, env, res.TaskID, 200); err != nil { // printing at full speed
			return nil, err
		}
		t0 := time.Now()
		if _, err := cancel.Handle(ctx, commands.CancelTask{TaskID: res.TaskID, TenantID: "bench"}); err != nil {
			return nil, fmt.Errorf("cancel: the first call failed: %w", err)
		}
		answered = append(answered, time.Since(t0))
		if err := b.waitCanceled(ctx, env, res.TaskID); err != nil {
			return nil, err
		}
		ended = append(ended, time.Since(t0))
	}
	return []row{
		{"cancel of a task printing as fast as it can: the call answers (p50, max)", fmt.Sprintf("%s, %s", percentile(answered, 0.5).Round(time.Millisecond), percentile(answered, 1).Round(time.Millisecond)), "—",
			fmt.Sprintf("%d tasks; every first call accepted", tasks)},
		{"… and the task is canceled, from the call (p50, max)", fmt.Sprintf("%s, %s", percentile(ended, 0.5).Round(time.Millisecond), percentile(ended, 1).Round(time.Millisecond)), "≤ 1 s",
			"sandboxed `yes`, worker on Redis Streams and Postgres"},
	}, nil
}

// waitSeq waits until the task's stream has an event at seq.
func (b *bench) waitSeq(ctx context.Context, env *prodEnv, id uuid.UUID, seq int64) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		page, err := env.store.ReadStream(ctx, id.String(), seq-1, 1)
		if err != nil {
			return err
		}
		if len(page) > 0 {
			return nil
		}
	}
	return fmt.Errorf("cancel: task %s never printed", id)
}

// waitCanceled waits until the task's last event is task.canceled.
func (b *bench) waitCanceled(ctx context.Context, env *prodEnv, id uuid.UUID) error {
	var seen int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		page, err := env.store.ReadStream(ctx, id.String(), seen, 1000)
		if err != nil {
			return err
		}
		for _, e := range page {
			switch e.Type {
			case domain.TaskCanceledType:
				return nil
			case domain.TaskSucceededType, domain.TaskFailedType, domain.TaskTimedOutType:
				return fmt.Errorf("cancel: task %s ended %s, not canceled", id, e.Type)
			default: // the task goes on
			}
			seen = e.Seq
		}
		if len(page) == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	return fmt.Errorf("cancel: task %s was not canceled within 30 s", id)
}
