package worker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/teststores"
)

// maxOverlap returns the most tasks that ran at once, from their
// task.started and terminal events.
func maxOverlap(t *testing.T, b *bundle, ids []uuid.UUID) int {
	t.Helper()
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, id := range ids {
		for _, e := range b.events(t, id) {
			switch {
			case e.Type == domain.TaskStartedType:
				edges = append(edges, edge{e.OccurredAt, +1})
			case e.Type.Terminal():
				edges = append(edges, edge{e.OccurredAt, -1})
			}
		}
	}
	// At one instant, ends come before starts: a slot freed is reused.
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	running, most := 0, 0
	for _, e := range edges {
		running += e.delta
		most = max(most, running)
	}
	return most
}

// Two workers with 4 slots each share a tenant limited to 2 tasks at once:
// every task runs, never more than 2 at a time, and the ones held back say
// why in their log.
func TestTenantConcurrencyLimit(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		checkpointDir := t.TempDir()
		ctx, stop := context.WithCancel(context.Background())
		relayDone := make(chan struct{})
		t.Cleanup(func() { stop(); <-relayDone })
		cfg := bus.RedisConfig{Client: testredis.Client(t), Prefix: testredis.Prefix(t)}
		pub, err := bus.NewRedisPublisher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		plan := func(context.Context, string) (worker.TenantPlan, error) {
			return worker.TenantPlan{Name: domain.PlanTrial, Concurrency: 2}, nil
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
			r, err := worker.New(b.store, worker.Config{WorkerID: fmt.Sprintf("w%d", i), Executors: newRunnerExecutors(t), PlanFunc: plan})
			if err != nil {
				t.Fatal(err)
			}
			pool := worker.NewPool(r, work, ctl, 4, nil).SubscribePerSlot()
			if err := pool.Subscribe(ctx); err != nil {
				t.Fatal(err)
			}
			go func() { _ = pool.Run(ctx) }()
		}
		relay := bus.NewRelay(s, pub, bus.FileCheckpoint{Path: filepath.Join(checkpointDir, "cp")}, nil)
		go func() { defer close(relayDone); _ = relay.Run(ctx) }()

		var ids []uuid.UUID
		for range 8 {
			ids = append(ids, b.startTask(t, domain.AdapterMock, `{"steps":3,"interval_ms":40}`, 60))
		}
		waited := 0
		for _, id := range ids {
			if got := b.waitEnded(t, id.String()); got != domain.TaskSucceededType {
				t.Fatalf("task %s ended with %s", id, got)
			}
			for _, e := range b.events(t, id) {
				if e.Type == domain.TaskWaitingType {
					waited++
					break
				}
			}
		}
		if most := maxOverlap(t, b, ids); most > 2 {
			t.Fatalf("%d tasks of the tenant ran at once; its limit is 2", most)
		}
		if waited == 0 {
			t.Fatal("no task was held back: the test did not exercise the limit")
		}
		if left, err := b.store.TaskWaitingList(t.Context(), "", 10); err != nil || len(left) != 0 {
			t.Fatalf("waiting tasks left: %v, %v", left, err)
		}
	})
}
