package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// testConcurrentStreams runs writers that each append to their own streams
// at the same time. Then the feed holds every event exactly once at dense
// positions, each stream's events in seq order, and every chain verifies.
func testConcurrentStreams(t *testing.T, newStore factory) {
	const writers, streamsPerWriter, appendsPerStream, batch = 8, 4, 5, 2
	s := newStore(t, eventstore.Options{})
	streams := make([][]eventstore.Stream, writers)
	var wg sync.WaitGroup
	for w := range writers {
		for range streamsPerWriter {
			streams[w] = append(streams[w], newStream())
		}
		wg.Go(func() {
			for round := range appendsPerStream {
				for _, stream := range streams[w] {
					seq := round * batch
					if _, err := s.Append(t.Context(), stream, int64(seq), outputEvents(seq, batch)); err != nil {
						t.Errorf("writer %d: append to %s at %d: %v", w, stream.ID, seq, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	feed := readFeed(t, s, writers*streamsPerWriter*appendsPerStream*batch)
	position := make(map[uuid.UUID]int64, len(feed))
	for _, e := range feed {
		if _, dup := position[e.EventID]; dup {
			t.Errorf("event %s is in the feed twice", e.EventID)
		}
		position[e.EventID] = e.Position
	}
	for _, own := range streams {
		for _, stream := range own {
			events := readStream(t, s, stream.ID)
			if len(events) != appendsPerStream*batch {
				t.Errorf("%s holds %d events, want %d", stream.ID, len(events), appendsPerStream*batch)
			}
			checkChain(t, events)
			last := int64(-1)
			for _, e := range events {
				p, ok := position[e.EventID]
				switch {
				case !ok:
					t.Errorf("%s seq %d is not in the feed", stream.ID, e.Seq)
				case p <= last:
					t.Errorf("%s seq %d is at feed position %d, before seq %d's: the feed must follow commit order", stream.ID, e.Seq, p, e.Seq-1)
				}
				last = p
			}
		}
	}
}

// testConcurrentSameStream lets writers race for each seq of one stream:
// exactly one wins each round, the others get a *ConflictError, and the
// chain stays intact. Then writers append with reload-and-retry, the way
// command handlers do, and no event is lost.
func testConcurrentSameStream(t *testing.T, newStore factory) {
	const contenders, rounds = 8, 10
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	for round := range rounds {
		start := make(chan struct{})
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range contenders {
			wg.Go(func() {
				<-start
				_, err := s.Append(t.Context(), stream, int64(round), outputEvents(round, 1))
				var conflict *eventstore.ConflictError
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.As(err, &conflict) || !errors.Is(err, eventstore.ErrConflict):
					t.Errorf("round %d: got %v, want success or a *eventstore.ConflictError", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d appends at expected seq %d succeeded, want exactly 1", round, n, round)
		}
	}

	const retriers, eventsEach = 4, 5
	var wg sync.WaitGroup
	for w := range retriers {
		wg.Go(func() {
			for i := range eventsEach {
				appendWithRetry(t, s, stream, outputEvent(100+w*eventsEach+i))
			}
		})
	}
	wg.Wait()

	events := readStream(t, s, stream.ID)
	if want := rounds + retriers*eventsEach; len(events) != want {
		t.Fatalf("the stream holds %d events, want %d", len(events), want)
	}
	checkChain(t, events)
	readFeed(t, s, int64(len(events)))
}

// appendWithRetry appends one event at the stream's head, reloading the head
// after each conflict. It reports failures with t.Errorf (it runs in goroutines).
func appendWithRetry(t *testing.T, s eventstore.Store, stream eventstore.Stream, e domain.NewEvent) {
	for attempt := 0; attempt < 1000; attempt++ {
		head, err := streamHead(t, s, stream.ID)
		if err != nil {
			t.Errorf("read head of %s: %v", stream.ID, err)
			return
		}
		_, err = s.Append(t.Context(), stream, head, []domain.NewEvent{e})
		if !errors.Is(err, eventstore.ErrConflict) {
			if err != nil {
				t.Errorf("append to %s: %v", stream.ID, err)
			}
			return
		}
	}
	t.Errorf("append to %s: still conflicting after 1000 attempts", stream.ID)
}

// streamHead returns the seq of a stream's last event.
func streamHead(t *testing.T, s eventstore.Store, streamID string) (int64, error) {
	head := int64(0)
	for {
		page, err := s.ReadStream(t.Context(), streamID, head, 0)
		if err != nil || len(page) == 0 {
			return head, err
		}
		head = page[len(page)-1].Seq
	}
}
