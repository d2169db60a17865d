package bus_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
)

func appendTask(t *testing.T, s eventstore.Store) string {
	t.Helper()
	id := uuid.NewString()
	var events []domain.NewEvent
	for _, typ := range []domain.EventType{domain.TaskCreatedType, domain.TaskQueuedType} {
		p, _ := domain.MarshalPayload(domain.Samples()[typ])
		events = append(events, domain.NewEvent{EventID: uuid.New(), Type: typ, Payload: p, OccurredAt: time.Now()})
	}
	if _, err := s.Append(t.Context(), eventstore.Stream{ID: id, Type: domain.StreamTask, TenantID: "t"}, 0, events); err != nil {
		t.Fatal(err)
	}
	return id
}

func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m := <-ch:
		m.Ack()
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
		return nil
	}
}

// The relay publishes every event, a work message per task.queued, and
// resumes after a restart from its checkpoint.
func TestRelayPublishesTheFeedAndResumes(t *testing.T) {
	t.Parallel()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 100}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	events, _ := pubsub.Subscribe(ctx, bus.TopicEvents)
	work, _ := pubsub.Subscribe(ctx, bus.TopicTasks)
	checkpoint := bus.FileCheckpoint{Path: filepath.Join(t.TempDir(), "relay.checkpoint")}

	relayDone := make(chan error, 1)
	go func() { relayDone <- bus.NewRelay(s, pubsub, checkpoint, nil).Run(ctx) }()
	first := appendTask(t, s)
	// The in-process bus delivers in the background, not always in order:
	// consumers go by position.
	positions := map[int64]bool{}
	for range 2 {
		e, err := bus.DecodeEvent(receive(t, events))
		if err != nil || e.StreamID != first {
			t.Fatalf("event %+v, %v", e, err)
		}
		positions[e.Position] = true
	}
	if !positions[0] || !positions[1] {
		t.Fatalf("positions %v, want 0 and 1", positions)
	}
	w, err := bus.DecodeWork(receive(t, work))
	if err != nil || w.TaskID.String() != first || w.Attempt != 1 || w.Position != 1 {
		t.Fatalf("work %+v, %v", w, err)
	}
	cancel()
	if err := <-relayDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("relay stopped with %v", err)
	}
	if next, _ := checkpoint.Load(t.Context()); next != 2 {
		t.Fatalf("checkpoint %d after two events, want 2", next)
	}

	// Restarted, the relay goes on from the checkpoint.
	ctx, cancel = context.WithCancel(t.Context())
	relayDone = make(chan error, 1)
	defer func() {
		cancel()
		if err := <-relayDone; !errors.Is(err, context.Canceled) {
			t.Errorf("restarted relay stopped with %v", err)
		}
	}() // before the checkpoint's directory goes
	events, _ = pubsub.Subscribe(ctx, bus.TopicEvents)
	go func() { relayDone <- bus.NewRelay(s, pubsub, checkpoint, nil).Run(ctx) }()
	second := appendTask(t, s)
	for range 2 {
		e, err := bus.DecodeEvent(receive(t, events))
		if err != nil || e.Position < 2 || e.StreamID != second {
			t.Fatalf("after restart: position %d of %s, %v; want the second task's events only", e.Position, e.StreamID, err)
		}
	}
}

func TestFileCheckpointRejectsGarbage(t *testing.T) {
	t.Parallel()
	c := bus.FileCheckpoint{Path: filepath.Join(t.TempDir(), "cp")}
	if n, err := c.Load(t.Context()); n != 0 || err != nil {
		t.Fatalf("missing file: %d, %v", n, err)
	}
	if err := c.Save(t.Context(), 42); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Load(t.Context()); n != 42 || err != nil {
		t.Fatalf("Load = %d, %v", n, err)
	}
	if err := writeFile(c.Path, "forty-two"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(t.Context()); err == nil {
		t.Fatal("a garbled checkpoint loaded")
	}
}

// A hold reaches the control topic's subscribers as a Control message.
func TestPublishHold(t *testing.T) {
	t.Parallel()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	controls, err := pubsub.Subscribe(t.Context(), bus.TopicControl)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if err := bus.PublishHold(pubsub, id, "tenant-a"); err != nil {
		t.Fatal(err)
	}
	c, err := bus.DecodeControl(receive(t, controls))
	if err != nil || c != (bus.Control{Action: bus.ActionHold, TaskID: id, TenantID: "tenant-a", Position: domain.NoPosition}) {
		t.Fatalf("control %+v, %v; want a hold of task %s", c, err, id)
	}
}
