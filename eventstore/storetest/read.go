package storetest

import (
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// testReadValidation reads from negative seqs and positions.
func testReadValidation(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	_, err := s.ReadStream(t.Context(), newStream().ID, -1, 10)
	checkValidation(t, err, "after_seq")
	_, err = s.ReadFeed(t.Context(), -1, 10)
	checkValidation(t, err, "from")
}

// readCase is one page read: from (an after-seq or a feed position), limit,
// and the seqs or positions it must return.
type readCase struct {
	from  int64
	limit int
	want  []int64
}

// pagingCases are the reads of 10 events (seqs 1…10 or positions 0…9) with
// MaxReadLimit 4; first is 1 for seqs and 0 for positions.
func pagingCases(first int64) []readCase {
	span := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i+first)
		}
		return out
	}
	return []readCase{
		{0, 3, span(0, 2)},
		{3, 3, span(3, 5)},
		{8, 3, span(8, 9)},
		{9, 1, span(9, 9)},
		{10, 3, nil},
		{42, 3, nil},
		{0, 0, span(0, 3)},   // limit <= 0 reads MaxReadLimit
		{0, -5, span(0, 3)},  // likewise
		{2, 100, span(2, 5)}, // clamped to MaxReadLimit
	}
}

// testReadStreamPaging reads a 10-event stream page by page, with limits
// clamped to MaxReadLimit 4.
func testReadStreamPaging(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{MaxReadLimit: 4})
	stream, other := newStream(), newStream()
	appendOK(t, s, stream, 0, outputEvents(0, 3))
	appendOK(t, s, other, 0, outputEvents(0, 2))
	appendOK(t, s, stream, 3, outputEvents(3, 7))
	all := readStream(t, s, stream.ID)
	if len(all) != 10 {
		t.Fatalf("the stream holds %d events, want 10", len(all))
	}
	for _, tc := range pagingCases(1) {
		got, err := s.ReadStream(t.Context(), stream.ID, tc.from, tc.limit)
		if err != nil {
			t.Fatalf("ReadStream(after %d, limit %d): %v", tc.from, tc.limit, err)
		}
		checkPage(t, "ReadStream", tc, got, all, func(e domain.Event) int64 { return e.Seq })
	}
	got, err := s.ReadStream(t.Context(), "task-unknown", 0, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("ReadStream(unknown stream) = %d events, %v; want none and no error", len(got), err)
	} // ReadLimit says the bound, which commands.Load relies on to stop at
	// a short page.
	if l, ok := s.(eventstore.ReadLimiter); !ok || l.ReadLimit() != 4 {
		t.Errorf("the store is no ReadLimiter answering MaxReadLimit 4 (%v)", ok)
	}
}

// checkPage checks one page against the whole sequence all, which key maps
// to the keys the page's cases count in.
func checkPage(t *testing.T, what string, tc readCase, got, all []domain.Event, key func(domain.Event) int64) {
	t.Helper()
	keys := make([]int64, len(got))
	for i, e := range got {
		keys[i] = key(e)
	}
	if !equalInts(keys, tc.want) {
		t.Errorf("%s(from %d, limit %d) returned %v, want %v", what, tc.from, tc.limit, keys, tc.want)
		return
	}
	for i, e := range got {
		for _, d := range diffEvent(e, all[int(keys[i]-key(all[0]))]) {
			t.Errorf("%s(from %d, limit %d): event %d: %s", what, tc.from, tc.limit, i, d)
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testFeed interleaves appends to three streams and checks that the feed
// holds every event once, at dense positions, in commit order.
func testFeed(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	a, b, c := newStream(), newStream(), newStream()
	var appended []domain.Event
	for _, step := range []struct {
		stream      eventstore.Stream
		expectedSeq int64
		n           int
	}{{a, 0, 2}, {b, 0, 1}, {a, 2, 3}, {c, 0, 1}, {b, 1, 2}} {
		appended = append(appended, appendOK(t, s, step.stream, step.expectedSeq, outputEvents(int(step.expectedSeq), step.n))...)
	}
	feed := readFeed(t, s, int64(len(appended)))
	checkEvents(t, "ReadFeed", feed, appended)
	for i, e := range appended {
		if e.Position != domain.NoPosition && e.Position != int64(i) {
			t.Errorf("Append returned position %d for the event committed %dth", e.Position, i)
		}
	}
}

// testFeedPaging reads a 10-event feed page by page, with limits clamped to
// MaxReadLimit 4, from the database (the feed cache off) and from the
// feed cache, which appendPagedFeed's read filled.
func testFeedPaging(t *testing.T, newStore factory) {
	forFeedCache(t, func(t *testing.T, cache int) {
		s := newStore(t, eventstore.Options{MaxReadLimit: 4, FeedCacheEvents: cache})
		all := appendPagedFeed(t, s)
		for _, tc := range pagingCases(0) {
			got, err := s.ReadFeed(t.Context(), tc.from, tc.limit)
			if err != nil {
				t.Fatalf("ReadFeed(from %d, limit %d): %v", tc.from, tc.limit, err)
			}
			checkPage(t, "ReadFeed", tc, got, all, func(e domain.Event) int64 { return e.Position })
		}
	})
}

// forFeedCache runs test with the store's feed cache off (every feed read
// from the database), then on: its Options.FeedCacheEvents.
func forFeedCache(t *testing.T, test func(t *testing.T, cache int)) {
	t.Run("feed cache off", func(t *testing.T) { test(t, -1) })
	t.Run("feed cache on", func(t *testing.T) { test(t, 0) })
}

// appendPagedFeed appends the 10 events of pagingCases' feed, of two
// streams interleaved in three appends, and returns the feed.
func appendPagedFeed(t *testing.T, s eventstore.Store) []domain.Event {
	t.Helper()
	a, b := newStream(), newStream()
	appendOK(t, s, a, 0, outputEvents(0, 4))
	appendOK(t, s, b, 0, outputEvents(0, 3))
	appendOK(t, s, a, 4, outputEvents(4, 3))
	return readFeed(t, s, 10)
}
