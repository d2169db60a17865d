package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
)

// holdingCancel returns a cancel handler on b's store that asks the
// workers on pub to hold a running task's output, as the binary wires it.
func holdingCancel(t *testing.T, b *bundle, pub message.Publisher) *commands.CancelTaskHandler {
	t.Helper()
	h, err := commands.NewCancelTaskHandler(b.store, commands.CancelTaskConfig{
		HoldOutput: func(_ context.Context, taskID uuid.UUID, tenantID string) {
			if err := bus.PublishHold(pub, taskID, tenantID); err != nil {
				t.Errorf("hold: %v", err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// waitEvents waits until the task's stream holds at least n events.
func (b *bundle) waitEvents(t *testing.T, id uuid.UUID, n int64) {
	t.Helper()
	for range 20_000 { // a hang guard of about 100 s, never reached
		events, err := b.store.ReadStream(context.Background(), id.String(), n-1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("task %s never had %d events", id, n)
}

// A task that prints as fast as it can appends its output back to back; a
// cancel of it is still accepted on the first call (the worker holds the
// output back while the cancel request goes in), and the task ends
// canceled.
func TestCancelWinsOverOutput(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		run := runInProcess(t, b, s, 1)
		id := b.startTask(t, domain.AdapterShell, `{"command":["yes","xxxxxxxxxxxxxxxx"]}`, 60)
		b.waitEvents(t, id, 30) // the output flows
		res, err := holdingCancel(t, b, run.pubsub).Handle(t.Context(), commands.CancelTask{TaskID: id, TenantID: tenant})
		if err != nil || res.Decision != domain.CancelRequest {
			t.Fatalf("cancel of a task that prints as fast as it can = %+v, %v; want a cancel request on the first call", res, err)
		}
		if got := b.waitEnded(t, id.String()); got != domain.TaskCanceledType {
			t.Fatalf("ended with %s, want task.canceled", got)
		}
	})
}
