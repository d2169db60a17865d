package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// feed is a stand-in for the database's feed: events at positions
// 0 … len-1, and a count of the events read from it.
type feed struct {
	events []domain.Event
	read   int
}

func newFeed(n, payload int) *feed {
	f := &feed{events: make([]domain.Event, n)}
	for i := range f.events {
		f.events[i] = domain.Event{Position: int64(i), Seq: int64(i), Type: domain.TaskOutputType, Payload: make([]byte, payload)}
	}
	return f
}

func (f *feed) readFrom(from int64, limit int) ([]domain.Event, error) {
	if from >= int64(len(f.events)) {
		return nil, nil
	}
	out := slices.Clone(f.events[from:min(int64(len(f.events)), from+int64(limit))])
	f.read += len(out)
	return out, nil
}

// readOK reads through c and checks that it returns the feed's events.
func readOK(t *testing.T, c *FeedCache, f *feed, from int64, limit int) {
	t.Helper()
	got, err := c.ReadThrough(from, limit, f.readFrom)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := (&feed{events: f.events}).readFrom(from, limit)
	if len(got) != len(want) {
		t.Fatalf("ReadThrough(%d, %d) returned %d events, want %d", from, limit, len(got), len(want))
	}
	for i := range got {
		if got[i].Position != want[i].Position {
			t.Fatalf("ReadThrough(%d, %d)[%d] is at position %d, want %d", from, limit, i, got[i].Position, want[i].Position)
		}
	}
}

// Consumers that follow one another read each event from the database
// once between them, whatever their pages; a lagging reader reads from
// the database without displacing the head's run.
func TestFeedCacheSharesReads(t *testing.T) {
	f := newFeed(5000, 10)
	var c FeedCache
	readOK(t, &c, f, 0, 1000) // the first consumer: all from the database
	readOK(t, &c, f, 0, 300)  // the next ones: from memory …
	readOK(t, &c, f, 300, 1000)
	if f.read != 1300 {
		t.Fatalf("read %d events from the database, want 1300 (1,000 then the 300 past the cache)", f.read)
	}
	readOK(t, &c, f, 3000, 100) // ahead, past a gap: a run of its own
	readOK(t, &c, f, 3000, 100)
	if f.read != 1400 {
		t.Fatalf("read %d events from the database, want 1400", f.read)
	}
	readOK(t, &c, f, 0, 100) // behind the run: from the database, not kept
	readOK(t, &c, f, 0, 100)
	readOK(t, &c, f, 3050, 50)
	if f.read != 1600 {
		t.Fatalf("read %d events from the database, want 1600", f.read)
	}
}

// What ReadThrough returns is the caller's: changing it changes nothing
// another reader gets.
func TestFeedCacheReturnsCopies(t *testing.T) {
	f := newFeed(10, 1)
	var c FeedCache
	readOK(t, &c, f, 0, 10)
	got, _ := c.ReadThrough(0, 10, f.readFrom)
	got[3].Seq, got[3].Payload = 99, nil
	again, _ := c.ReadThrough(0, 10, f.readFrom)
	if again[3].Seq != 3 || again[3].Payload == nil {
		t.Fatalf("a caller's change reached the cache: seq %d, payload %q", again[3].Seq, again[3].Payload)
	}
}

// The cache holds at most FeedCacheEvents events and FeedCacheBytes
// bytes, the newest; Clear empties it.
func TestFeedCacheBounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		events   int
		payload  int
		wantKept int
	}{
		{"count", FeedCacheEvents + 1000, 1, FeedCacheEvents},
		{"bytes", 1000, 1 << 20, FeedCacheBytes / (1<<20 + eventOverhead)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeed(tc.events, tc.payload)
			var c FeedCache
			for from := 0; from < tc.events; from += 500 {
				readOK(t, &c, f, int64(from), 500)
			}
			if n, b := len(c.events), c.bytes; n != tc.wantKept || b > FeedCacheBytes || c.first != int64(tc.events-tc.wantKept) {
				t.Fatalf("the cache holds %d events (%d bytes) from %d, want the newest %d", n, b, c.first, tc.wantKept)
			}
			f.read = 0
			readOK(t, &c, f, c.first, tc.wantKept)
			if f.read != 0 {
				t.Fatalf("read %d events of the cached run from the database", f.read)
			}
			c.Clear()
			readOK(t, &c, f, int64(tc.events-10), 10)
			if f.read != 10 || c.bytes != 10*(eventOverhead+tc.payload) {
				t.Fatalf("after Clear: read %d events from the database (want 10), %d bytes held", f.read, c.bytes)
			}
		})
	}
}

// LeavesThrough hashes what the cache holds and reads only the rest; a
// failed read fails it and caches nothing.
func TestFeedCacheLeaves(t *testing.T) {
	f := newFeed(100, 10)
	var c FeedCache
	readOK(t, &c, f, 0, 60)
	var asked [2]int64
	leaves, err := c.LeavesThrough(50, 30, func(from int64, limit int) ([]domain.Hash, error) {
		asked = [2]int64{from, int64(limit)}
		events, _ := f.readFrom(from, limit)
		out := make([]domain.Hash, len(events))
		for i := range events {
			out[i] = integrity.LeafHash(&events[i])
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if asked != [2]int64{60, 20} {
		t.Fatalf("LeavesThrough read %d events from %d, want 20 from 60", asked[1], asked[0])
	}
	for i, leaf := range leaves {
		if want := integrity.LeafHash(&f.events[50+i]); leaf != want {
			t.Fatalf("leaf %d is %x, want %x", 50+i, leaf, want)
		}
	}
	boom := errors.New("boom")
	if _, err := c.ReadThrough(60, 10, func(int64, int) ([]domain.Event, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("ReadThrough with a failing read = %v, want %v", err, boom)
	}
	if n := len(c.events); n != 60 {
		t.Fatalf("the cache holds %d events after a failed read, want 60", n)
	}
}
