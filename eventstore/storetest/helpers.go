package storetest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// baseTime has nanoseconds and is not UTC: a store keeps it as microseconds in UTC.
var baseTime = time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("UTC+2", 2*60*60))

// tenant owns every test stream unless a test says otherwise.
const tenant = "tenant-a"

// waitTimeout bounds every wait of the suite: generous, since it only
// decides how long a broken store takes to fail.
const waitTimeout = 10 * time.Second

// newStream returns a task stream with a unique id.
func newStream() eventstore.Stream {
	return eventstore.Stream{ID: "task-" + uuid.NewString(), Type: domain.StreamTask, TenantID: tenant}
}

// outputEvent returns a valid task.output event with a fresh id; i sets its
// content and time.
func outputEvent(i int) domain.NewEvent {
	return domain.NewEvent{
		EventID:    uuid.New(),
		Type:       domain.TaskOutputType,
		Payload:    fmt.Appendf(nil, `{"stream":"stdout","offset":%d,"data":"line %d\n"}`, i*10, i),
		Metadata:   domain.Metadata{Actor: "worker:w1", CorrelationID: "corr-1"},
		OccurredAt: baseTime.Add(time.Duration(i) * time.Millisecond),
	}
}

// outputEvents returns n output events, numbered from first.
func outputEvents(first, n int) []domain.NewEvent {
	events := make([]domain.NewEvent, n)
	for i := range events {
		events[i] = outputEvent(first + i)
	}
	return events
}

// appendOK appends and fails the test unless the append succeeds with the
// events at the right seqs.
func appendOK(t *testing.T, s eventstore.Store, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) []domain.Event {
	t.Helper()
	got, err := s.Append(t.Context(), stream, expectedSeq, events)
	if err != nil {
		t.Fatalf("Append(%s, expected seq %d, %d events): %v", stream.ID, expectedSeq, len(events), err)
	}
	if len(got) != len(events) {
		t.Fatalf("Append(%s) returned %d events, want %d", stream.ID, len(got), len(events))
	}
	for i, e := range got {
		if e.EventID != events[i].EventID || e.Seq != expectedSeq+int64(i)+1 {
			t.Fatalf("Append(%s) returned event %d as %s at seq %d, want %s at seq %d",
				stream.ID, i, e.EventID, e.Seq, events[i].EventID, expectedSeq+int64(i)+1)
		}
	}
	return got
}

// readStream reads all of a stream, page by page.
func readStream(t *testing.T, s eventstore.Store, streamID string) []domain.Event {
	t.Helper()
	all := []domain.Event{}
	for {
		page, err := s.ReadStream(t.Context(), streamID, int64(len(all)), 0)
		if err != nil {
			t.Fatalf("ReadStream(%s, %d): %v", streamID, len(all), err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

// waitFeedLen waits until the feed holds at least n events.
func waitFeedLen(t *testing.T, s eventstore.Store, n int64) {
	t.Helper()
	if n == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := s.WaitFeed(ctx, n-1); err != nil {
		t.Fatalf("WaitFeed(%d): %v (the feed should hold %d events)", n-1, err, n)
	}
}

// readFeed waits until the feed holds n events, reads all of it page by
// page, and checks that it holds exactly n events at positions 0 … n-1.
func readFeed(t *testing.T, s eventstore.Store, n int64) []domain.Event {
	t.Helper()
	waitFeedLen(t, s, n)
	all := []domain.Event{}
	for {
		page, err := s.ReadFeed(t.Context(), int64(len(all)), 0)
		if err != nil {
			t.Fatalf("ReadFeed(%d): %v", len(all), err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
	}
	if int64(len(all)) != n {
		t.Fatalf("the feed holds %d events, want %d", len(all), n)
	}
	for i, e := range all {
		if e.Position != int64(i) {
			t.Fatalf("feed event %d (%s) has position %d: positions must be dense from 0", i, e.EventID, e.Position)
		}
	}
	if head, err := s.FeedHead(t.Context()); err != nil || head != n {
		t.Fatalf("FeedHead() = %d, %v; want %d", head, err, n)
	}
	return all
}

// expectFeedLen checks that the feed holds exactly n events, although a
// store may seal positions after the append: it appends a marker event to a
// new stream and checks that the marker took position n and is the last
// event. It returns the feed's new length, n+1.
func expectFeedLen(t *testing.T, s eventstore.Store, n int64) int64 {
	t.Helper()
	marker := appendOK(t, s, newStream(), 0, outputEvents(0, 1))[0]
	waitFeedLen(t, s, n+1)
	tail, err := s.ReadFeed(t.Context(), n, 0)
	if err != nil {
		t.Fatalf("ReadFeed(%d): %v", n, err)
	}
	if len(tail) != 1 || tail[0].EventID != marker.EventID || tail[0].Position != n {
		ids := make([]string, len(tail))
		for i, e := range tail {
			ids[i] = fmt.Sprintf("%d:%s/%d", e.Position, e.StreamID, e.Seq)
		}
		t.Fatalf("the feed from position %d holds %v; want only the marker %s at %d: the feed should hold exactly %d events before it",
			n, ids, marker.StreamID, n, n)
	}
	return n + 1
}

// checkChain checks that events are a whole stream (seq 1 …) whose hash
// chain and payload digests recompute with package integrity.
func checkChain(t *testing.T, events []domain.Event) {
	t.Helper()
	prev := domain.ZeroHash
	for i, e := range events {
		if e.Seq != int64(i)+1 {
			t.Errorf("%s event %d has seq %d, want %d", e.StreamID, i, e.Seq, i+1)
		}
		if e.HashPrev != prev {
			t.Errorf("%s seq %d: hash_prev %x, want %x (the previous event's hash)", e.StreamID, e.Seq, e.HashPrev, prev)
		}
		if len(e.PayloadSalt) != domain.SaltSize {
			t.Errorf("%s seq %d: payload salt is %d bytes, want %d", e.StreamID, e.Seq, len(e.PayloadSalt), domain.SaltSize)
		}
		if d := integrity.PayloadDigest(e.PayloadSalt, e.Payload); d != e.PayloadDigest {
			t.Errorf("%s seq %d: payload digest %x, recomputed %x", e.StreamID, e.Seq, e.PayloadDigest, d)
		}
		if h := integrity.EntryHash(&e); h != e.Hash {
			t.Errorf("%s seq %d: hash %x, recomputed %x", e.StreamID, e.Seq, e.Hash, h)
		}
		prev = e.Hash
	}
}

// listOK fails the test when a listing failed or returned a nil slice (a
// store answers an empty slice when nothing matches), naming the listing as
// call does; it returns list.
func listOK[E any](t *testing.T, call string, list []E, err error) []E {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	if list == nil {
		t.Fatalf("%s returned nil, want a (possibly empty) slice", call)
	}
	return list
}

// diffEvent lists the fields in which got differs from want. Positions are
// compared only when both are known (Append may return domain.NoPosition).
// got's OccurredAt must be in UTC.
func diffEvent(got, want domain.Event) []string {
	var diffs []string
	diff := func(field string, differs bool, g, w any) {
		if differs {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	hexOf := func(b []byte) string { return hex.EncodeToString(b) }
	diff("Position", got.Position != domain.NoPosition && want.Position != domain.NoPosition && got.Position != want.Position, got.Position, want.Position)
	diff("EventID", got.EventID != want.EventID, got.EventID, want.EventID)
	diff("StreamID", got.StreamID != want.StreamID, got.StreamID, want.StreamID)
	diff("StreamType", got.StreamType != want.StreamType, got.StreamType, want.StreamType)
	diff("Seq", got.Seq != want.Seq, got.Seq, want.Seq)
	diff("TenantID", got.TenantID != want.TenantID, got.TenantID, want.TenantID)
	diff("Type", got.Type != want.Type, got.Type, want.Type)
	diff("Payload", !bytes.Equal(got.Payload, want.Payload), fmt.Sprintf("%q", got.Payload), fmt.Sprintf("%q", want.Payload))
	diff("PayloadSalt", !bytes.Equal(got.PayloadSalt, want.PayloadSalt), hexOf(got.PayloadSalt), hexOf(want.PayloadSalt))
	diff("PayloadDigest", got.PayloadDigest != want.PayloadDigest, hexOf(got.PayloadDigest[:]), hexOf(want.PayloadDigest[:]))
	diff("Metadata", got.Metadata != want.Metadata, fmt.Sprintf("%+v", got.Metadata), fmt.Sprintf("%+v", want.Metadata))
	diff("OccurredAt", !got.OccurredAt.Equal(want.OccurredAt) || got.OccurredAt.Location() != time.UTC, got.OccurredAt, want.OccurredAt.UTC())
	diff("HashPrev", got.HashPrev != want.HashPrev, hexOf(got.HashPrev[:]), hexOf(want.HashPrev[:]))
	diff("Hash", got.Hash != want.Hash, hexOf(got.Hash[:]), hexOf(want.Hash[:]))
	return diffs
}

// checkEvents fails unless got and want hold the same events, field by field.
func checkEvents(t *testing.T, what string, got, want []domain.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		for _, d := range diffEvent(got[i], want[i]) {
			t.Errorf("%s: event %d: %s", what, i, d)
		}
	}
}

// checkConflict fails unless err is a *ConflictError for the stream at
// expected, whose Actual is the stream's head or unknown (-1).
func checkConflict(t *testing.T, err error, streamID string, expected, actual int64) {
	t.Helper()
	var conflict *eventstore.ConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("append to %s at expected seq %d: got %v, want a *eventstore.ConflictError", streamID, expected, err)
	}
	if conflict.StreamID != streamID || conflict.Expected != expected || (conflict.Actual != actual && conflict.Actual != -1) {
		t.Errorf("conflict = %+v, want StreamID %s, Expected %d, Actual %d (or -1)", *conflict, streamID, expected, actual)
	}
}

// checkValidation fails unless err is a *domain.ValidationError naming field.
func checkValidation(t *testing.T, err error, field string) {
	t.Helper()
	var invalid *domain.ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("got %v, want a *domain.ValidationError for %s", err, field)
	}
	if invalid.Field != field {
		t.Errorf("validation error %q names field %q, want %q", err, invalid.Field, field)
	}
	if errors.Is(err, eventstore.ErrConflict) || errors.Is(err, eventstore.ErrEventIDReused) {
		t.Errorf("validation error %q also matches a conflict or id reuse", err)
	}
}

// receive waits for a result from a goroutine, failing the test after waitTimeout.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not return within %s", what, waitTimeout)
		panic("unreachable")
	}
}
