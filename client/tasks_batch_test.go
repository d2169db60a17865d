package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testwait"
)

// noop returns n start requests of no-op mock tasks named t0, t1, ….
func noop(n int) []client.StartTaskRequest {
	reqs := make([]client.StartTaskRequest, n)
	for i := range reqs {
		reqs[i] = client.StartTaskRequest{Name: fmt.Sprintf("t%d", i), Adapter: domain.AdapterMock,
			Args: json.RawMessage(`{"steps":1,"interval_ms":0,"output_lines_per_step":0}`)}
	}
	return reqs
}

// 1,000 tasks started in one call all run to their end, through the
// workers' bus, as single starts do; the call sent again with its key
// starts nothing new.
func TestStartTasks(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		c := b.client(t, tenantA)
		req := client.StartTasksRequest{Tasks: noop(client.MaxBatchTasks), IdempotencyKey: "backlog-1"}
		started, err := c.StartTasks(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(started) != client.MaxBatchTasks || b.count("POST", "/v1/tasks/batch") != 1 {
			t.Fatalf("%d tasks in %d requests", len(started), b.count("POST", "/v1/tasks/batch"))
		}
		for i, st := range started {
			testwait.For(t, fmt.Sprintf("task %d to end", i), func() bool {
				s, err := c.TaskStatus(ctx, st.TaskID)
				if err != nil {
					t.Fatal(err)
				}
				return s.State.Terminal()
			})
			if s, _ := c.TaskStatus(ctx, st.TaskID); s.State != domain.StateSucceeded || s.Attempt != 1 {
				t.Fatalf("task %d ended %s after %d attempts", i, s.State, s.Attempt)
			}
		}
		again, err := c.StartTasks(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for i := range again {
			if again[i].TaskID != started[i].TaskID {
				t.Fatalf("the batch again answered task %s at %d, want %s", again[i].TaskID, i, started[i].TaskID)
			}
		}
		if st, _ := c.TaskStatus(ctx, started[0].TaskID); st.State != domain.StateSucceeded {
			t.Fatalf("the batch sent again changed its first task: %s", st.State)
		}
		// Tenant B sees none of them.
		if _, err := b.client(t, tenantB).TaskStatus(ctx, started[0].TaskID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("tenant B asked for tenant A's task: %v", err)
		}
	})
}

// One invalid task fails the call, naming it; a batch past the daily
// quota fails whole; a batch past MaxBatchTasks is never sent.
func TestStartTasksErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)
	o := serverOpts{plans: map[string]string{"PLAN_TRIAL_TASKS_PER_DAY": "5"}, now: func() time.Time { return now }}
	forEachStore(t, o, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		c := b.client(t, tenantA)
		tasks := noop(4)
		tasks[2].Args = map[string]any{"steps": -1}
		_, err := c.StartTasks(ctx, client.StartTasksRequest{Tasks: tasks})
		if apiErr := apiError(t, err, 400); !errors.Is(err, client.ErrInvalidInput) || apiErr.Field != "tasks[2].args.steps" {
			t.Fatalf("an invalid task: %+v", apiErr)
		}
		_, err = c.StartTasks(ctx, client.StartTasksRequest{Tasks: noop(6)})
		if apiErr := apiError(t, err, 429); !errors.Is(err, client.ErrQuotaExceeded) || apiErr.Limit != 5 || apiErr.Used != 0 {
			t.Fatalf("a batch past the quota: %+v", apiErr)
		}
		if _, err := c.StartTasks(ctx, client.StartTasksRequest{Tasks: noop(5)}); err != nil {
			t.Fatalf("a batch of the quota: %v", err)
		}
		calls := b.count("POST", "/v1/tasks/batch")
		for _, n := range []int{0, client.MaxBatchTasks + 1} {
			if _, err := c.StartTasks(ctx, client.StartTasksRequest{Tasks: noop(n)}); err == nil {
				t.Fatalf("a batch of %d was accepted", n)
			}
		}
		if b.count("POST", "/v1/tasks/batch") != calls {
			t.Fatal("a batch of the wrong size was sent")
		}
	})
}
