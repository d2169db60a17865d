package worker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/testproc"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
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

// A worker that cannot renew a task's lease (its store is gone) stops the
// task before the lease expires, so that the attempt the watchdog starts
// next never runs beside it.
func TestUnrenewableLeaseStopsTheTask(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		marker := fmt.Sprintf("sleep 61.%d", time.Now().UnixNano()%1000)
		id := b.startTask(t, domain.AdapterShell, `{"command":["sh","-c","`+marker+`"]}`, 120)
		r, err := worker.New(b.store, worker.Config{WorkerID: "w1", Executors: newRunnerExecutors(t), LeaseTTL: 2 * time.Second, RenewInterval: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(t.Context(), id, tenant) }()
		testwait.For(t, "the task's process to start", func() bool { return len(testproc.Matching(marker)) > 0 })
		_ = s.Close() // the store is out of reach from now on
		select {
		case err := <-done:
			if !errors.Is(err, worker.ErrTaskLost) {
				t.Fatalf("Run = %v, want ErrTaskLost", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the task still runs long after its lease expired")
		}
		if len(testproc.Matching(marker)) > 0 {
			t.Fatal("the task's process outlived the lease")
		}
	})
}
