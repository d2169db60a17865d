package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/projections"
)

// Open a store, append a task's first events with an expected seq, and read
// them back: canonical payloads, microsecond UTC times, feed positions.
func Example() {
	dir, err := os.MkdirTemp("", "axontask-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx := context.Background()

	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), eventstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = store.Close() }()

	task := eventstore.Stream{ID: "task-42", Type: domain.StreamTask, TenantID: "tenant-1"}
	at := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)
	// A new stream is at seq 0. Keep the event ids: appending them again
	// after an ambiguous failure is a safe no-op.
	created, err := store.Append(ctx, task, 0, []domain.NewEvent{{
		EventID:    uuid.New(),
		Type:       domain.TaskCreatedType,
		Payload:    []byte(`{"name": "build", "adapter": "mock", "args": {"steps": 3}, "timeout_s": 60}`),
		Metadata:   domain.Metadata{Actor: "user:alice"},
		OccurredAt: at,
	}})
	if err != nil {
		log.Fatal(err)
	}
	queued := []domain.NewEvent{{
		EventID:    uuid.New(),
		Type:       domain.TaskQueuedType,
		Payload:    []byte(`{"attempt": 1}`),
		OccurredAt: at.Add(time.Millisecond),
	}}
	if _, err := store.Append(ctx, task, created[0].Seq, queued); err != nil {
		log.Fatal(err)
	}

	// A writer that decided on a stale view of the stream gets a conflict:
	// it reloads the stream, decides again and retries.
	_, err = store.Append(ctx, task, 1, []domain.NewEvent{{
		EventID: uuid.New(), Type: domain.TaskCanceledType, Payload: []byte(`{}`), OccurredAt: at,
	}})
	fmt.Println("stale append conflicts:", errors.Is(err, eventstore.ErrConflict))

	events, err := store.ReadStream(ctx, task.ID, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Printf("seq %d, position %d, %s at %s: %s\n", e.Seq, e.Position, e.Type, domain.FormatTime(e.OccurredAt), e.Payload)
	}
	// Output:
	// stale append conflicts: true
	// seq 1, position 0, task.created at 2026-01-02T15:04:05.123456Z: {"adapter":"mock","args":{"steps":3},"name":"build","timeout_s":60}
	// seq 2, position 1, task.queued at 2026-01-02T15:04:05.124456Z: {"attempt":1}
}

// Lease a task only while its tenant runs fewer tasks than its plan allows,
// before claiming it; remember a refused task as waiting, and dispatch it
// again once a lease of the tenant is dropped.
func ExampleStore_LeasePutWithin() {
	dir, err := os.MkdirTemp("", "axontask-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx := context.Background()

	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), eventstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = store.Close() }()

	const concurrency = 1 // the tenant's plan
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	dispatch := func(taskID string) {
		lease := eventstore.Lease{TaskID: taskID, TenantID: "tenant-1", WorkerID: "w1", Attempt: 1, ExpiresAt: now.Add(30 * time.Second)}
		err := store.LeasePutWithin(ctx, lease, concurrency)
		switch {
		case err == nil:
			// Claim the task (append task.started), run it, drop the lease.
			fmt.Println(taskID, "leased")
			if err := store.TaskWaitingUnmark(ctx, taskID); err != nil {
				log.Fatal(err)
			}
		case errors.Is(err, eventstore.ErrTenantAtLimit):
			fmt.Println(taskID, "waits for a slot")
			if err := store.TaskWaitingMark(ctx, taskID, lease.TenantID, now); err != nil {
				log.Fatal(err)
			}
		case errors.Is(err, eventstore.ErrLeaseTaken):
			fmt.Println(taskID, "runs elsewhere")
		default:
			log.Fatal(err)
		}
	}
	dispatch("task-1")
	dispatch("task-2")
	dispatch("task-1")

	// task-1 ends: its lease is dropped, and the oldest waiting task of the
	// tenant is dispatched again.
	if err := store.LeaseDrop(ctx, "task-1", 1); err != nil {
		log.Fatal(err)
	}
	waiting, err := store.TaskWaitingList(ctx, "tenant-1", 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range waiting {
		dispatch(w.TaskID)
	}
	waiting, err = store.TaskWaitingList(ctx, "", 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("still waiting:", len(waiting))
	// Output:
	// task-1 leased
	// task-2 waits for a slot
	// task-1 runs elsewhere
	// task-2 leased
	// still waiting: 0
}

// Prune a finished task once its plan's retention has passed: its events
// lose their payloads and salts, and its chain still verifies. The tasks
// to prune come from the task list read model.
func ExampleStore_TaskPrune() {
	dir, err := os.MkdirTemp("", "axontask-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx := context.Background()

	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), eventstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = store.Close() }()

	ended := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	task := eventstore.Stream{ID: "task-42", Type: domain.StreamTask, TenantID: "tenant-1"}
	_, err = store.Append(ctx, task, 0, []domain.NewEvent{
		{EventID: uuid.New(), Type: domain.TaskCreatedType, Payload: []byte(`{"adapter":"mock","args":{},"name":"build","timeout_s":60}`), OccurredAt: ended.Add(-time.Minute)},
		{EventID: uuid.New(), Type: domain.TaskOutputType, Payload: []byte(`{"data":"a secret\n","offset":0,"stream":"stdout"}`), OccurredAt: ended.Add(-time.Second)},
		{EventID: uuid.New(), Type: domain.TaskSucceededType, Payload: []byte(`{"exit_code":0}`), OccurredAt: ended},
	})
	if err != nil {
		log.Fatal(err)
	}
	// The task list read model learns that the task ended.
	feed, err := store.ReadFeed(ctx, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.TaskViewsApply(ctx, projections.TaskViewsName, 0, feed); err != nil {
		log.Fatal(err)
	}

	// Thirty days later, with a plan keeping tasks for seven.
	now := ended.AddDate(0, 0, 30)
	cutoff := now.AddDate(0, 0, -7)
	tenants, err := store.TaskViewsTenantsWithEnded(ctx, cutoff, "", 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, tenantID := range tenants {
		ids, err := store.TaskViewsEndedOfTenant(ctx, tenantID, cutoff, 0)
		if err != nil {
			log.Fatal(err)
		}
		for _, id := range ids {
			n, err := store.TaskPrune(ctx, id, now)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s of %s: %d events pruned\n", id, tenantID, n)
		}
	}

	events, err := store.ReadStream(ctx, task.ID, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Printf("seq %d, %s: payload and salt pruned: %t\n", e.Seq, e.Type, e.Payload == nil && e.PayloadSalt == nil)
	}
	fmt.Println("chain verifies:", integrity.Verify(events) == nil)
	n, err := store.TaskPrune(ctx, task.ID, now)
	fmt.Println("pruned again:", n, err)
	// Output:
	// task-42 of tenant-1: 3 events pruned
	// seq 1, task.created: payload and salt pruned: true
	// seq 2, task.output: payload and salt pruned: true
	// seq 3, task.succeeded: payload and salt pruned: true
	// chain verifies: true
	// pruned again: 0 <nil>
}
