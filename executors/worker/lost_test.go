package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/projections"
)

// A task whose work message never reaches any worker (here: nothing
// publishes one) is adopted by the watchdog once it has been queued too
// long, and a pool's waiting sweep runs it.
func TestLostWorkMessage(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		ctx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		projector, err := projections.NewRunner(s, projections.TaskViews(s), projections.RunnerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = projector.Run(ctx) }()
		watchdog := worker.NewWatchdog(b.store, worker.WatchdogConfig{SweepInterval: 100 * time.Millisecond, StaleQueuedAfter: 300 * time.Millisecond})
		go func() { _ = watchdog.Run(ctx) }()
		pubsub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
		t.Cleanup(func() { _ = pubsub.Close() })
		pool := worker.NewPool(newRunner(t, b, "w1"), pubsub, pubsub, 2, nil)
		if err := pool.Subscribe(ctx); err != nil {
			t.Fatal(err)
		}
		go func() { _ = pool.Run(ctx) }()

		id := b.startTask(t, domain.AdapterMock, `{"steps":1}`, 60)
		if got := b.waitEnded(t, id.String()); got != domain.TaskSucceededType {
			t.Fatalf("the task with no work message ended with %s", got)
		}
	})
}
