package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// testAppendAndReadBack appends to a new stream and checks every field of
// the returned, re-read and feed events: canonical payloads, fresh salts,
// digests, hashes, metadata and times truncated to microseconds in UTC.
func testAppendAndReadBack(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	in := []domain.NewEvent{{
		EventID:    uuid.New(),
		Type:       domain.TaskCreatedType,
		Payload:    []byte(`{"timeout_s":60, "name":"build","args":{"z":[1,2.50,1e2],"a":"\u00e9\n"},"adapter":"mock"}`),
		Metadata:   domain.Metadata{Actor: "user:u1", RequestID: "req-1", CausationID: "cmd-1", CorrelationID: "corr-1"},
		OccurredAt: baseTime,
	}, {
		EventID:    uuid.New(),
		Type:       domain.TaskProgressType,
		Payload:    []byte(` {"b":1,"a":"x"} `),
		OccurredAt: baseTime.Add(1500 * time.Nanosecond),
	}}
	wantPayloads := []string{
		`{"adapter":"mock","args":{"a":"é\n","z":[1,2.5,100]},"name":"build","timeout_s":60}`,
		`{"a":"x","b":1}`,
	}
	wantTimes := []string{"2026-03-04T03:06:07.891234Z", "2026-03-04T03:06:07.891236Z"}

	appended := appendOK(t, s, stream, 0, in)
	prev := domain.ZeroHash
	for i, e := range appended {
		want := domain.Event{
			Position: e.Position, EventID: in[i].EventID, StreamID: stream.ID, StreamType: stream.Type,
			Seq: int64(i) + 1, TenantID: stream.TenantID, Type: in[i].Type, Payload: []byte(wantPayloads[i]),
			PayloadSalt: e.PayloadSalt, PayloadDigest: integrity.PayloadDigest(e.PayloadSalt, []byte(wantPayloads[i])),
			Metadata: in[i].Metadata, OccurredAt: domain.NormalizeTime(in[i].OccurredAt), HashPrev: prev,
		}
		want.Hash = integrity.EntryHash(&want)
		for _, d := range diffEvent(e, want) {
			t.Errorf("appended event %d: %s", i, d)
		}
		if got := domain.FormatTime(e.OccurredAt); got != wantTimes[i] {
			t.Errorf("appended event %d: occurred_at renders as %s, want %s", i, got, wantTimes[i])
		}
		if len(e.PayloadSalt) != domain.SaltSize {
			t.Errorf("appended event %d: salt is %d bytes, want %d", i, len(e.PayloadSalt), domain.SaltSize)
		}
		prev = want.Hash
	}
	if bytes.Equal(appended[0].PayloadSalt, appended[1].PayloadSalt) {
		t.Errorf("both events got salt %x: every event needs a fresh salt", appended[0].PayloadSalt)
	}

	checkEvents(t, "ReadStream", readStream(t, s, stream.ID), appended)
	feed := readFeed(t, s, 2)
	checkEvents(t, "ReadFeed", feed, appended)
	for i, e := range appended {
		if e.Position != domain.NoPosition && e.Position != feed[i].Position {
			t.Errorf("Append returned position %d for event %d, the feed has it at %d", e.Position, i, feed[i].Position)
		}
	}
}

// testHashChain appends in several batches and recomputes the chain; a
// second stream starts its own chain.
func testHashChain(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream, other := newStream(), newStream()
	var appended []domain.Event
	seq := int64(0)
	for _, n := range []int{1, 3, 2} {
		appended = append(appended, appendOK(t, s, stream, seq, outputEvents(int(seq), n))...)
		seq += int64(n)
		appendOK(t, s, other, seq-int64(n), outputEvents(int(seq), n))
	}
	checkChain(t, appended)
	read := readStream(t, s, stream.ID)
	checkEvents(t, "ReadStream", read, appended)
	checkChain(t, read)
	checkChain(t, readStream(t, s, other.ID))
}

// testConflict appends at wrong expected seqs: each fails with a
// *ConflictError and writes nothing; the right seq still works.
func testConflict(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream, fresh := newStream(), newStream()
	appended := appendOK(t, s, stream, 0, outputEvents(0, 2))
	for _, expected := range []int64{0, 1, 3, 10} {
		_, err := s.Append(t.Context(), stream, expected, outputEvents(2, 2))
		checkConflict(t, err, stream.ID, expected, 2)
	}
	_, err := s.Append(t.Context(), fresh, 1, outputEvents(0, 1))
	checkConflict(t, err, fresh.ID, 1, 0)

	checkEvents(t, "ReadStream after conflicts", readStream(t, s, stream.ID), appended)
	if got := readStream(t, s, fresh.ID); len(got) != 0 {
		t.Errorf("a conflicting append to a new stream wrote %d events", len(got))
	}
	expectFeedLen(t, s, 2)
	appendOK(t, s, stream, 2, outputEvents(2, 1))
}

// testAtomicBatch appends batches that fail on their last event: none of
// their events is written, and their valid events' ids stay usable.
func testAtomicBatch(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream, other := newStream(), newStream()
	first := appendOK(t, s, stream, 0, outputEvents(0, 1))
	taken := appendOK(t, s, other, 0, outputEvents(0, 1))[0].EventID

	invalid := outputEvents(1, 3)
	invalid[2].Payload = []byte(`{"data":`)
	_, err := s.Append(t.Context(), stream, 1, invalid)
	checkValidation(t, err, "events[2].payload")

	reused := outputEvents(1, 3)
	reused[2].EventID = taken
	if _, err := s.Append(t.Context(), stream, 1, reused); !errors.Is(err, eventstore.ErrEventIDReused) {
		t.Errorf("a batch reusing a stored id: got %v, want ErrEventIDReused", err)
	}

	checkEvents(t, "ReadStream after failed batches", readStream(t, s, stream.ID), first)
	expectFeedLen(t, s, 2)
	appendOK(t, s, stream, 1, invalid[:2])
}

// testIdempotentRetry repeats an append with the same event ids: it returns
// the stored events and writes nothing, also after later appends. The same
// ids at other seqs are no retry, and a retry naming another tenant is refused.
func testIdempotentRetry(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	batch := outputEvents(0, 2)
	appendOK(t, s, stream, 0, batch)
	stored := readStream(t, s, stream.ID)

	retry := func(when string) {
		t.Helper()
		again, err := s.Append(t.Context(), stream, 0, batch)
		if err != nil {
			t.Fatalf("retry %s: %v", when, err)
		}
		checkEvents(t, "retry "+when, again, stored)
	}
	retry("right after the append")
	more := appendOK(t, s, stream, 2, outputEvents(2, 1))
	retry("after a later append")

	_, err := s.Append(t.Context(), stream, 1, batch)
	if !errors.Is(err, eventstore.ErrEventIDReused) || errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("the same ids at other seqs: got %v, want ErrEventIDReused", err)
	}
	wrongTenant := stream
	wrongTenant.TenantID = "tenant-b"
	_, err = s.Append(t.Context(), wrongTenant, 0, batch)
	checkValidation(t, err, "tenant_id")

	checkEvents(t, "ReadStream after retries", readStream(t, s, stream.ID), append(stored, more...))
	expectFeedLen(t, s, 3)
}

// testEventIDReused appends events whose ids another event holds: alone, in
// a batch, in another stream or the same one. Each fails with
// ErrEventIDReused and writes nothing.
func testEventIDReused(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream, other := newStream(), newStream()
	taken := appendOK(t, s, stream, 0, outputEvents(0, 1))[0].EventID

	alone := outputEvents(0, 1)
	alone[0].EventID = taken
	inBatch := outputEvents(0, 3)
	inBatch[1].EventID = taken
	later := outputEvents(1, 1)
	later[0].EventID = taken
	for _, tc := range []struct {
		name        string
		stream      eventstore.Stream
		expectedSeq int64
		events      []domain.NewEvent
	}{
		{"another stream", other, 0, alone},
		{"another stream, in a batch", other, 0, inBatch},
		{"the same stream, a later seq", stream, 1, later},
	} {
		_, err := s.Append(t.Context(), tc.stream, tc.expectedSeq, tc.events)
		if !errors.Is(err, eventstore.ErrEventIDReused) {
			t.Errorf("%s: got %v, want ErrEventIDReused", tc.name, err)
		}
	}
	if got := readStream(t, s, other.ID); len(got) != 0 {
		t.Errorf("appends reusing an id wrote %d events", len(got))
	}
	if got := readStream(t, s, stream.ID); len(got) != 1 {
		t.Errorf("the stream holds %d events, want 1", len(got))
	}
	expectFeedLen(t, s, 1)
}

// testValidation appends invalid input: each append fails with a
// *domain.ValidationError naming the field and writes nothing.
func testValidation(t *testing.T, newStore factory) {
	one := func(edit func(e *domain.NewEvent)) func() []domain.NewEvent {
		return func() []domain.NewEvent {
			events := outputEvents(0, 1)
			edit(&events[0])
			return events
		}
	}
	valid := func() []domain.NewEvent { return outputEvents(2, 1) }
	tests := []struct {
		name        string
		opts        eventstore.Options
		existing    bool // the stream holds two events of tenant-a's task stream
		stream      func(s *eventstore.Stream)
		expectedSeq int64
		events      func() []domain.NewEvent
		field       string
	}{
		{name: "empty batch", events: func() []domain.NewEvent { return nil }, field: "events"},
		{name: "too many events", opts: eventstore.Options{MaxAppendEvents: 3}, events: func() []domain.NewEvent { return outputEvents(0, 4) }, field: "events"},
		{name: "payload over the limit", opts: eventstore.Options{MaxPayloadBytes: 64}, events: one(func(e *domain.NewEvent) {
			e.Payload = []byte(`{"data":"` + strings.Repeat("x", 100) + `"}`)
		}), field: "events[0].payload"},
		{name: "invalid JSON", events: func() []domain.NewEvent {
			events := outputEvents(0, 2)
			events[1].Payload = []byte(`{"data":`)
			return events
		}, field: "events[1].payload"},
		{name: "invalid JSON after valid events", events: func() []domain.NewEvent {
			events := outputEvents(0, 3)
			events[2].Payload = []byte(`not json`)
			return events
		}, field: "events[2].payload"},
		{name: "empty stream id", stream: func(s *eventstore.Stream) { s.ID = "" }, events: valid, field: "stream_id"},
		{name: "control character in stream id", stream: func(s *eventstore.Stream) { s.ID += "\n2" }, events: valid, field: "stream_id"},
		{name: "control character in tenant id", stream: func(s *eventstore.Stream) { s.TenantID = "tenant\x00a" }, events: valid, field: "tenant_id"},
		{name: "unknown stream type", stream: func(s *eventstore.Stream) { s.Type = "planet" }, events: valid, field: "stream_type"},
		{name: "control character in event type", events: one(func(e *domain.NewEvent) { e.Type = "task.output\r" }), field: "events[0].type"},
		{name: "unknown event type", events: one(func(e *domain.NewEvent) { e.Type = "task.exploded" }), field: "events[0].type"},
		{name: "zero event id", events: one(func(e *domain.NewEvent) { e.EventID = uuid.Nil }), field: "events[0].event_id"},
		{name: "duplicate event id in the batch", events: func() []domain.NewEvent {
			events := outputEvents(0, 2)
			events[1].EventID = events[0].EventID
			return events
		}, field: "events[1].event_id"},
		{name: "zero occurred_at", events: one(func(e *domain.NewEvent) { e.OccurredAt = time.Time{} }), field: "events[0].occurred_at"},
		{name: "negative expected seq", expectedSeq: -1, events: valid, field: "expected_seq"},
		{name: "tenant mismatch", existing: true, expectedSeq: 2, stream: func(s *eventstore.Stream) { s.TenantID = "tenant-b" }, events: valid, field: "tenant_id"},
		{name: "stream type mismatch", existing: true, expectedSeq: 2, stream: func(s *eventstore.Stream) { s.Type = domain.StreamTenant }, events: valid, field: "stream_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, tc.opts)
			stream := newStream()
			var before []domain.Event
			if tc.existing {
				before = appendOK(t, s, stream, 0, outputEvents(0, 2))
			}
			target := stream
			if tc.stream != nil {
				tc.stream(&target)
			}
			_, err := s.Append(t.Context(), target, tc.expectedSeq, tc.events())
			checkValidation(t, err, tc.field)

			checkEvents(t, "ReadStream after the invalid append", readStream(t, s, stream.ID), before)
			if target.ID != stream.ID {
				if got := readStream(t, s, target.ID); len(got) != 0 {
					t.Errorf("the invalid append wrote %d events", len(got))
				}
			}
			expectFeedLen(t, s, int64(len(before)))
		})
	}
}

// testCommittedHook checks the Committed hook: called once with the
// stored events of each append that commits, never for one that fails.
func testCommittedHook(t *testing.T, newStore factory) {
	var mu sync.Mutex
	var calls [][]domain.Event
	s := newStore(t, eventstore.Options{Committed: func(_ context.Context, events []domain.Event) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, events)
	}})
	stream := newStream()
	first := appendOK(t, s, stream, 0, outputEvents(0, 3))
	if _, err := s.Append(t.Context(), stream, 1, outputEvents(3, 1)); err == nil {
		t.Fatal("an append at a stale seq succeeded")
	}
	second := appendOK(t, s, stream, 3, outputEvents(3, 1))
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 {
		t.Fatalf("Committed was called %d times, want 2 (one per committed append)", len(calls))
	}
	checkEvents(t, "first call", calls[0], first)
	checkEvents(t, "second call", calls[1], second)
}
