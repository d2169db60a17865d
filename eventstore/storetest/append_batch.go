package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// BatchStore is what RunAppendBatch tests.
type BatchStore interface {
	eventstore.Store
	eventstore.BatchAppender
}

// RunAppendBatch runs the conformance suite of eventstore.BatchAppender
// against the stores that newStore makes.
func RunAppendBatch[S BatchStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) BatchStore { return newStore(t, o) }, []suiteTest[BatchStore]{
		{"AppendBatch", testAppendBatch},
		{"AppendBatchAllOrNothing", testAppendBatchAllOrNothing},
		{"AppendBatchRetry", testAppendBatchRetry},
		{"AppendBatchConcurrentRetry", testAppendBatchConcurrentRetry},
		{"AppendBatchValidation", testAppendBatchValidation},
	})
}

// batchOf returns parts appending n output events to each stream at its
// expected seq.
func batchOf(streams []eventstore.Stream, expected []int64, n int) []eventstore.StreamAppend {
	parts := make([]eventstore.StreamAppend, len(streams))
	for i, s := range streams {
		parts[i] = eventstore.StreamAppend{Stream: s, ExpectedSeq: expected[i], Events: outputEvents(int(expected[i]), n)}
	}
	return parts
}

// appendBatchOK appends parts and fails the test unless every part is
// stored at its seqs, in the order of parts.
func appendBatchOK(t *testing.T, s BatchStore, parts []eventstore.StreamAppend) [][]domain.Event {
	t.Helper()
	got, err := s.AppendBatch(t.Context(), parts)
	if err != nil {
		t.Fatalf("AppendBatch of %d parts: %v", len(parts), err)
	}
	if len(got) != len(parts) {
		t.Fatalf("AppendBatch returned %d parts, want %d", len(got), len(parts))
	}
	for i, p := range parts {
		if len(got[i]) != len(p.Events) {
			t.Fatalf("part %d: %d events returned, want %d", i, len(got[i]), len(p.Events))
		}
		for j, e := range got[i] {
			if e.EventID != p.Events[j].EventID || e.StreamID != p.Stream.ID || e.Seq != p.ExpectedSeq+int64(j)+1 {
				t.Fatalf("part %d event %d: got %s in %s at seq %d, want %s in %s at seq %d", i, j, e.EventID, e.StreamID, e.Seq, p.Events[j].EventID, p.Stream.ID, p.ExpectedSeq+int64(j)+1)
			}
		}
	}
	return got
}

// testAppendBatch appends to new and existing streams in one batch: each
// part is chained after its own head, the feed holds every event, and the
// commit is observed once, as one transaction of every part.
func testAppendBatch(t *testing.T, newStore Opener[BatchStore]) {
	var mu sync.Mutex
	var observed [][2]int
	s := newStore(t, eventstore.Options{ObserveCommitFunc: func(appends, events int) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, [2]int{appends, events})
	}})
	old := newStream()
	appendOK(t, s, old, 0, outputEvents(0, 2))
	streams := []eventstore.Stream{newStream(), old, newStream()}
	got := appendBatchOK(t, s, batchOf(streams, []int64{0, 2, 0}, 3))
	for i, stream := range streams {
		events := readStream(t, s, stream.ID)
		checkChain(t, events)
		checkEvents(t, "ReadStream of part "+stream.ID, events[len(events)-3:], got[i])
	}
	readFeed(t, s, 2+9)
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 2 || observed[1] != [2]int{3, 9} {
		t.Fatalf("ObserveCommitFunc saw %v, want [[1 2] [3 9]]: one transaction for the append, one for the whole batch", observed)
	}
}

// testAppendBatchAllOrNothing: a part that conflicts, is invalid or
// appends to another tenant's stream fails the whole batch, naming the
// part, and nothing of any part is stored.
func testAppendBatchAllOrNothing(t *testing.T, newStore Opener[BatchStore]) {
	s := newStore(t, eventstore.Options{})
	old := newStream()
	appendOK(t, s, old, 0, outputEvents(0, 2))
	foreign := eventstore.Stream{ID: old.ID, Type: old.Type, TenantID: "tenant-other"}
	invalid := batchOf([]eventstore.Stream{newStream(), newStream()}, []int64{0, 0}, 1)
	invalid[1].Events[0].Type = "no.such_type"
	cases := []struct {
		name  string
		parts []eventstore.StreamAppend
		index int
		check func(t *testing.T, err error)
	}{
		{"conflict", batchOf([]eventstore.Stream{newStream(), old, newStream()}, []int64{0, 1, 0}, 2), 1,
			func(t *testing.T, err error) { checkConflict(t, err, old.ID, 1, 2) }},
		{"invalid event", invalid, 1, func(t *testing.T, err error) { checkValidation(t, err, "events[0].type") }},
		{"another tenant's stream", batchOf([]eventstore.Stream{newStream(), foreign}, []int64{0, 2}, 1), 1,
			func(t *testing.T, err error) { checkValidation(t, err, "tenant_id") }},
	}
	for _, tc := range cases {
		_, err := s.AppendBatch(t.Context(), tc.parts)
		var part *eventstore.BatchPartError
		if !errors.As(err, &part) || part.Index != tc.index || part.StreamID != tc.parts[tc.index].Stream.ID {
			t.Fatalf("%s: AppendBatch: %v, want a *BatchPartError for part %d", tc.name, err, tc.index)
		}
		tc.check(t, err)
		for _, p := range tc.parts {
			if p.Stream.ID == old.ID {
				continue
			}
			if events := readStream(t, s, p.Stream.ID); len(events) != 0 {
				t.Fatalf("%s: stream %s holds %d events after a failed batch", tc.name, p.Stream.ID, len(events))
			}
		}
	}
	if events := readStream(t, s, old.ID); len(events) != 2 {
		t.Fatalf("the existing stream holds %d events, want 2", len(events))
	}
	expectFeedLen(t, s, 2)
}

// testAppendBatchRetry: a batch appended again is a no-op that returns the
// stored events; a batch of which only some parts are stored fails on the
// first stored part, storing nothing more.
func testAppendBatchRetry(t *testing.T, newStore Opener[BatchStore]) {
	s := newStore(t, eventstore.Options{})
	parts := batchOf([]eventstore.Stream{newStream(), newStream()}, []int64{0, 0}, 2)
	first := appendBatchOK(t, s, parts)
	again := appendBatchOK(t, s, parts)
	for i := range parts {
		checkEvents(t, "retried part", again[i], first[i])
	}
	expectFeedLen(t, s, 4)

	mixed := batchOf([]eventstore.Stream{newStream(), newStream()}, []int64{0, 0}, 1)
	appendOK(t, s, mixed[1].Stream, 0, mixed[1].Events)
	_, err := s.AppendBatch(t.Context(), mixed)
	var part *eventstore.BatchPartError
	if !errors.As(err, &part) || part.Index != 1 || !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("a batch whose part 1 alone is stored: %v, want a conflict of part 1", err)
	}
	if events := readStream(t, s, mixed[0].Stream.ID); len(events) != 0 {
		t.Fatalf("part 0 was stored by a failed batch")
	}
}

// testAppendBatchConcurrentRetry: the same batch from several goroutines
// at once is stored once, and every caller gets its events.
func testAppendBatchConcurrentRetry(t *testing.T, newStore Opener[BatchStore]) {
	const callers = 4
	s := newStore(t, eventstore.Options{})
	parts := batchOf([]eventstore.Stream{newStream(), newStream(), newStream()}, []int64{0, 0, 0}, 2)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			got, err := s.AppendBatch(t.Context(), parts)
			if err != nil {
				t.Errorf("AppendBatch: %v", err)
				return
			}
			if got[2][1].EventID == parts[2].Events[1].EventID {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != callers {
		t.Fatalf("%d of %d callers got the batch's events", ok.Load(), callers)
	}
	expectFeedLen(t, s, 6)
}

// testAppendBatchValidation: malformed batches fail before any I/O with
// the field named.
func testAppendBatchValidation(t *testing.T, newStore Opener[BatchStore]) {
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	tooMany := make([]eventstore.StreamAppend, eventstore.MaxBatchParts+1)
	for i := range tooMany {
		tooMany[i] = eventstore.StreamAppend{Stream: newStream(), Events: outputEvents(0, 1)}
	}
	sharedID := batchOf([]eventstore.Stream{newStream(), newStream()}, []int64{0, 0}, 1)
	sharedID[1].Events[0].EventID = sharedID[0].Events[0].EventID
	badStream := batchOf([]eventstore.Stream{newStream(), {ID: "", Type: domain.StreamTask, TenantID: tenant}}, []int64{0, 0}, 1)
	cases := []struct {
		name, field string
		parts       []eventstore.StreamAppend
	}{
		{"no parts", "parts", nil},
		{"too many parts", "parts", tooMany},
		{"one stream twice", "parts", batchOf([]eventstore.Stream{stream, stream}, []int64{0, 0}, 1)},
		{"an event id in two parts", "parts", sharedID},
		{"a stream without id", "stream_id", badStream},
		{"a negative seq", "expected_seq", []eventstore.StreamAppend{{Stream: newStream(), ExpectedSeq: -1, Events: outputEvents(0, 1)}}},
	}
	for _, tc := range cases {
		_, err := s.AppendBatch(t.Context(), tc.parts)
		checkValidation(t, err, tc.field)
	}
	expectFeedLen(t, s, 0)
}
