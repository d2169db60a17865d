package worker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/teststores"
)

// Production wiring on Redis Streams: one relay, two workers in the
// workers' consumer group. Every task runs exactly once, and a cancel
// reaches whichever worker runs the task.
func TestRedisBusFeedsTwoWorkers(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		checkpointDir := t.TempDir() // removed after the relay has stopped (cleanups run last-in first-out)
		ctx, stop := context.WithCancel(context.Background())
		relayDone := make(chan struct{})
		t.Cleanup(func() { stop(); <-relayDone })
		cfg := bus.RedisConfig{Client: testredis.Client(t), Prefix: testredis.Prefix(t)}
		pub, err := bus.NewRedisPublisher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			work, err := bus.NewRedisWorkSubscriber(cfg, fmt.Sprintf("w%d", i))
			if err != nil {
				t.Fatal(err)
			}
			ctl, err := bus.NewRedisFanOutSubscriber(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = work.Close(); _ = ctl.Close() })
			pool := worker.NewPool(newRunner(t, b, fmt.Sprintf("w%d", i)), work, ctl, 4, nil).SubscribePerSlot()
			if err := pool.Subscribe(ctx); err != nil {
				t.Fatal(err)
			}
			go func() { _ = pool.Run(ctx) }()
		}
		relay := bus.NewRelay(s, pub, bus.FileCheckpoint{Path: filepath.Join(checkpointDir, "cp")}, nil)
		go func() { defer close(relayDone); _ = relay.Run(ctx) }()

		var ids []uuid.UUID
		for range 6 {
			ids = append(ids, b.startTask(t, domain.AdapterMock, `{"steps":2,"interval_ms":5}`, 60))
		}
		slow := b.startTask(t, domain.AdapterShell, `{"command":["sleep","30"]}`, 60)
		for _, id := range ids {
			if got := b.waitEnded(t, id.String()); got != domain.TaskSucceededType {
				t.Fatalf("task %s ended with %s", id, got)
			}
			started := 0
			for _, e := range b.events(t, id) {
				if e.Type == domain.TaskStartedType {
					started++
				}
			}
			if started != 1 {
				t.Fatalf("task %s was started %d times", id, started)
			}
		}
		b.waitStarted(t, slow)
		if _, err := b.cancel.Handle(t.Context(), commands.CancelTask{TaskID: slow, TenantID: tenant}); err != nil {
			t.Fatal(err)
		}
		if got := b.waitEnded(t, slow.String()); got != domain.TaskCanceledType {
			t.Fatalf("slow task ended with %s", got)
		}
	})
}
