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
