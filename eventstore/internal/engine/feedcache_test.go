package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// feed is a stand-in for the database's feed: events at positions
// 0 … len-1, and a count of the events read from it.
type feed struct {
	events []domain.Event
	read   atomic.Int64
}

func newFeed(n, payload int) *feed {
	f := &feed{events: make([]domain.Event, n)}
	for i := range f.events {
		f.events[i] = domain.Event{Position: int64(i), Seq: int64(i), StreamID: "s", Type: domain.TaskOutputType, Payload: make([]byte, payload)}
	}
	return f
}

func (f *feed) readFrom(from int64, limit int) ([]domain.Event, error) {
	if from >= int64(len(f.events)) {
		return nil, nil
	}
	out := slices.Clone(f.events[from:min(int64(len(f.events)), from+int64(limit))])
	f.read.Add(int64(len(out)))
	return out, nil
}

// readOK reads through c and checks that it returns the feed's events.
func readOK(t *testing.T, c *FeedCache, f *feed, from int64, limit int) []domain.Event {
	t.Helper()
	got, err := c.ReadThrough(t.Context(), from, limit, f.readFrom)
	if err != nil {
		t.Fatal(err)
	}
	want := f.events[min(from, int64(len(f.events))):min(int64(len(f.events)), from+int64(limit))]
	if len(got) != len(want) {
		t.Fatalf("ReadThrough(%d, %d) returned %d events, want %d", from, limit, len(got), len(want))
	}
	for i := range got {
		if got[i].Position != want[i].Position {
			t.Fatalf("ReadThrough(%d, %d)[%d] is at position %d, want %d", from, limit, i, got[i].Position, want[i].Position)
		}
	}
	return got
}

// wantRead checks how many events were read from f since the last check.
func wantRead(t *testing.T, f *feed, want int64) {
	t.Helper()
	if n := f.read.Swap(0); n != want {
		t.Fatalf("read %d events from the database, want %d", n, want)
	}
}

// Consumers that follow one another read each event from the database
// once between them, whatever their pages; a lagging reader reads from
// the database without displacing the head's run.
func TestFeedCacheSharesReads(t *testing.T) {
	f := newFeed(5000, 10)
	c := NewFeedCache(16384, nil)
	readOK(t, c, f, 0, 1000) // the first consumer: all from the database
	wantRead(t, f, 1000)
	readOK(t, c, f, 0, 300) // the next ones: from memory …
	readOK(t, c, f, 300, 1000)
	wantRead(t, f, 300)        // … but for the 300 past the cache
	readOK(t, c, f, 3000, 100) // ahead, past a gap: a run of its own
	readOK(t, c, f, 3000, 100)
	wantRead(t, f, 100)
	readOK(t, c, f, 0, 100) // behind the run: from the database, not kept
	readOK(t, c, f, 0, 100)
	readOK(t, c, f, 3050, 50)
	wantRead(t, f, 200)
}

// Readers that ask for the events past the cached run while one of them
// reads those wait for that read: the database serves it once.
func TestFeedCacheCoalescesReadsAtTheHead(t *testing.T) {
	f := newFeed(2000, 10)
	c := NewFeedCache(16384, nil)
	readOK(t, c, f, 0, 1000)
	wantRead(t, f, 1000)
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = c.ReadThrough(t.Context(), 1000, 1000, func(from int64, limit int) ([]domain.Event, error) {
			close(started)
			<-release
			return f.readFrom(from, limit)
		})
	})
	<-started
	for range 4 {
		wg.Go(func() { readOK(t, c, f, 900, 1100) })
	}
	time.Sleep(20 * time.Millisecond) // let them wait; one that comes later finds the events cached
	close(release)
	wg.Wait()
	wantRead(t, f, 1000)

	// A reader that gives up waiting says why.
	started, release = make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		_, _ = c.ReadThrough(t.Context(), 2000, 10, func(int64, int) ([]domain.Event, error) {
			close(started)
			<-release
			return nil, nil
		})
	})
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.ReadThrough(ctx, 2000, 10, f.readFrom); !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled reader waiting for another's read: %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
}

// What ReadThrough returns is the caller's slice: changing its events
// changes nothing another reader gets.
func TestFeedCacheReturnsCopies(t *testing.T) {
	f := newFeed(10, 1)
	c := NewFeedCache(16384, nil)
	readOK(t, c, f, 0, 10)
	got := readOK(t, c, f, 0, 10)
	got[3].Seq, got[3].Payload = 99, nil
	if again := readOK(t, c, f, 0, 10); again[3].Seq != 3 || again[3].Payload == nil {
		t.Fatalf("a caller's change reached the cache: seq %d, payload %q", again[3].Seq, again[3].Payload)
	}
}

// The cache holds the newest events within its count and FeedCacheBytes,
// and none at all when it is off.
func TestFeedCacheBounds(t *testing.T) {
	big := newFeed(1, 1<<20)
	perBig := size(&big.events[0])
	for _, tc := range []struct {
		name     string
		max      int
		events   int
		payload  int
		wantKept int
	}{
		{"count", 1000, 3000, 1, 1000},
		{"bytes", 16384, 100, 1 << 20, FeedCacheBytes / perBig},
		{"off", -1, 100, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeed(tc.events, tc.payload)
			c := NewFeedCache(tc.max, nil)
			for from := 0; from < tc.events; from += 7 {
				readOK(t, c, f, int64(from), 7)
			}
			if n, b := c.n, c.bytes; n != tc.wantKept || b > FeedCacheBytes || n > 0 && c.first != int64(tc.events-tc.wantKept) {
				t.Fatalf("the cache holds %d events (%d bytes) from %d, want the newest %d", n, b, c.first, tc.wantKept)
			}
			// The kept events come from memory; with none kept (off), a
			// read of the newest goes to the database again.
			f.read.Store(0)
			again := max(tc.wantKept, 7)
			readOK(t, c, f, int64(tc.events-again), again)
			wantRead(t, f, int64(again-tc.wantKept))
		})
	}
}

// An event is served from memory for FeedCacheTTL after the read that
// brought it began, then read again.
func TestFeedCacheTTL(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	f := newFeed(100, 1)
	c := NewFeedCache(16384, clock)
	readOK(t, c, f, 0, 50)
	advance(FeedCacheTTL / 2)
	readOK(t, c, f, 0, 100)
	wantRead(t, f, 100)
	advance(FeedCacheTTL/2 + time.Millisecond) // the first 50 are stale, the next 50 not
	readOK(t, c, f, 0, 100)
	wantRead(t, f, 100) // from 0: the run now starts at 50, so all 100 are read
	readOK(t, c, f, 50, 50)
	wantRead(t, f, 0)
}

// A read the database answers with a position missing keeps only what
// precedes the gap; the leaves of the cache are checked dense as the
// database's are.
func TestFeedCacheKeepsOnlyDenseRuns(t *testing.T) {
	f := newFeed(6, 1)
	gappy := func(from int64, limit int) ([]domain.Event, error) {
		events, err := f.readFrom(from, limit)
		return slices.DeleteFunc(events, func(e domain.Event) bool { return e.Position == 2 }), err
	}
	c := NewFeedCache(16384, nil)
	got, err := c.ReadThrough(t.Context(), 0, 6, gappy)
	if err != nil || len(got) != 5 {
		t.Fatalf("ReadThrough over a gap = %d events, %v; want the database's 5", len(got), err)
	}
	if c.first != 0 || c.n != 2 {
		t.Fatalf("the cache holds %d events from %d, want positions 0 and 1", c.n, c.first)
	}
	var asked []int64
	leaves, err := c.LeavesThrough(0, 6, func(from int64, limit int) ([]domain.Hash, error) {
		asked = append(asked, from, int64(limit))
		return nil, nil
	})
	if err != nil || len(leaves) != 2 || !slices.Equal(asked, []int64{2, 4}) {
		t.Fatalf("LeavesThrough(0, 6) = %d leaves, %v, reading %v; want the 2 cached, then a read of 4 from 2", len(leaves), err, asked)
	}
	for i, leaf := range leaves {
		if want := integrity.LeafHash(&f.events[i]); leaf != want {
			t.Fatalf("leaf %d is %x, want %x", i, leaf, want)
		}
	}
	boom := errors.New("boom")
	if _, err := c.LeavesThrough(0, 6, func(int64, int) ([]domain.Hash, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("LeavesThrough with a failing read = %v, want %v", err, boom)
	}
	if _, err := c.ReadThrough(t.Context(), 2, 4, func(int64, int) ([]domain.Event, error) { return nil, boom }); !errors.Is(err, boom) || c.n != 2 {
		t.Fatalf("ReadThrough with a failing read = %v and %d events cached, want %v and 2", err, c.n, boom)
	}
}

// Forget drops a pruned stream's payloads from the cache, and a read that
// began before it keeps nothing of what it read.
func TestFeedCacheForget(t *testing.T) {
	f := newFeed(20, 8)
	for i := range f.events {
		if i%2 == 1 {
			f.events[i].StreamID = "other"
		}
	}
	c := NewFeedCache(16384, nil)
	readOK(t, c, f, 0, 10)
	before := c.bytes
	c.Forget("s")
	for _, e := range readOK(t, c, f, 0, 10) {
		if pruned := e.StreamID == "s"; pruned != (e.Payload == nil) {
			t.Fatalf("position %d of stream %s after Forget(s): payload %q", e.Position, e.StreamID, e.Payload)
		}
	}
	if c.bytes != before-5*8 {
		t.Fatalf("the cache counts %d bytes after forgetting five payloads of 8 bytes, want %d", c.bytes, before-40)
	}
	_, err := c.ReadThrough(t.Context(), 10, 10, func(from int64, limit int) ([]domain.Event, error) {
		c.Forget("s") // a prune commits while the read is in flight
		return f.readFrom(from, limit)
	})
	if err != nil || c.n != 10 {
		t.Fatalf("a read that began before a prune: %v, and the cache keeps %d events, want the 10 from before", err, c.n)
	}
}
