package worker_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/teststores"
)

// waitEnded waits until the task's last event is a terminal one.
func (b *bundle) waitEnded(t *testing.T, id string) domain.EventType {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		events, err := b.store.ReadStream(context.Background(), id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(events); n > 0 {
			var task domain.Task
			for _, e := range events {
				if err := task.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			if task.State().Terminal() {
				return events[n-1].Type
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("task %s did not end within 30 s", id)
	return ""
}

// inProcess is a pool of one worker and a relay on Watermill's in-process
// bus, as `axontask dev` wires them.
type inProcess struct {
	pubsub   *gochannel.GoChannel
	stop     context.CancelFunc
	poolDone chan error
}

// runInProcess runs a pool of slots tasks at once and a relay on s until
// the test ends (or stop).
func runInProcess(t *testing.T, b *bundle, s eventstore.Store, slots int) *inProcess {
	t.Helper()
	checkpointDir := t.TempDir() // removed after the relay has stopped (cleanups run last-in first-out)
	ctx, stop := context.WithCancel(context.Background())
	relayDone := make(chan struct{})
	t.Cleanup(func() { stop(); <-relayDone })
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	pool := worker.NewPool(newRunner(t, b, "w1"), pubsub, pubsub, slots, nil)
	if err := pool.Subscribe(ctx); err != nil {
		t.Fatal(err)
	}
	run := &inProcess{pubsub: pubsub, stop: stop, poolDone: make(chan error, 1)}
	go func() { run.poolDone <- pool.Run(ctx) }()
	relay := bus.NewRelay(s, pubsub, bus.FileCheckpoint{Path: filepath.Join(checkpointDir, "relay.checkpoint")}, nil)
	go func() { defer close(relayDone); _ = relay.Run(ctx) }()
	return run
}

// Started tasks flow from the store through the relay and the in-process
// bus to the pool, which runs them; cancel requests reach it as control
// messages.
func TestRelayFeedsThePool(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		run := runInProcess(t, b, s, 4)
		quick := b.startTask(t, domain.AdapterMock, `{"steps":3,"interval_ms":1}`, 60)
		slow := b.startTask(t, domain.AdapterShell, `{"command":["sleep","30"]}`, 60)
		if got := b.waitEnded(t, quick.String()); got != domain.TaskSucceededType {
			t.Fatalf("quick task ended with %s", got)
		}
		b.waitStarted(t, slow)
		if _, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: slow, TenantID: tenant}); err != nil {
			t.Fatal(err)
		}
		if got := b.waitEnded(t, slow.String()); got != domain.TaskCanceledType {
			t.Fatalf("slow task ended with %s", got)
		}
		run.stop()
		select {
		case err := <-run.poolDone:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("pool stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the pool did not stop")
		}
	})
}
