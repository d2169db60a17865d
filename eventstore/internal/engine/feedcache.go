package engine

import (
	"context"
	"sync"
	"time"
	"unsafe"

	"github.com/axontask/axontask/domain"
)

// Bounds of a FeedCache: what it may hold, and for how long.
const (
	// FeedCacheBytes bounds what a FeedCache's events take in memory,
	// about: their payloads, identifiers and structs.
	FeedCacheBytes = 32 << 20
	// FeedCacheTTL is how long it serves an event after the read that
	// brought it began: a payload pruned, or an event tampered with, by
	// another process since is served as it was for at most this long.
	FeedCacheTTL = 10 * time.Second
)

// eventOverhead is what a cached event takes besides its variable-length
// fields: the struct and its read time.
const eventOverhead = int(unsafe.Sizeof(domain.Event{}) + unsafe.Sizeof(time.Time{}))

// FeedCache keeps the newest stretch of the feed a store has read, so that
// the feed's consumers in one process — the relay, the projections, the
// webhook dispatcher, the tenant feed's indexer, the Merkle tree's builder —
// take a page from the database once between them rather than once each:
// they all follow the head, a few milliseconds apart, and those that ask
// for the events past the cached stretch while one of them reads those
// wait for that read instead of making their own.
//
// It holds one dense run of positions, the newest read, bounded by an
// event count, FeedCacheBytes and FeedCacheTTL. What it holds is what the
// database held: a position, once read, never changes, except that
// retention prunes payloads — the store tells its cache (Forget) when it
// prunes, and the TTL bounds how long a prune by another process goes
// unseen. The events it returns share their byte slices with it: callers
// must not modify them. Use NewFeedCache; it is safe for concurrent use.
type FeedCache struct {
	max int              // events held at most; 0: the cache is off
	now func() time.Time // the clock of the TTL

	mu sync.Mutex
	// ring holds the run, oldest first from ring[start], n events at
	// positions first … first+n-1; readAt[i] is when the read that brought
	// ring[i] began. Both take their slots at the first add (max, or as
	// many as FeedCacheBytes could ever hold if fewer), and are never
	// reallocated: a busy feed moves thousands of events a second through
	// them.
	ring   []domain.Event
	readAt []time.Time
	start  int
	n      int
	first  int64
	bytes  int
	// gen counts Forget calls: a read that began before one does not
	// keep what it read.
	gen uint64
	// loading, when not nil, is closed when the read of the events past
	// the run's end, in flight, has ended.
	loading chan struct{}
}

// NewFeedCache returns a cache of at most maxEvents events (none when
// maxEvents <= 0: every read goes to the database), whose TTL runs on now
// (time.Now when nil).
func NewFeedCache(maxEvents int, now func() time.Time) *FeedCache {
	if now == nil {
		now = time.Now
	}
	return &FeedCache{max: max(maxEvents, 0), now: now}
}

// ReadThrough returns the feed's events from position from on, at most
// limit: copies of those the cache holds, then read(from', limit') of the
// rest, which it takes in. While another caller reads the events past the
// cached run, it waits for that read (or for ctx) first.
func (c *FeedCache) ReadThrough(ctx context.Context, from int64, limit int, read func(from int64, limit int) ([]domain.Event, error)) ([]domain.Event, error) {
	if c.max == 0 {
		return read(from, limit)
	}
	var out []domain.Event
	for {
		c.mu.Lock()
		at := from + int64(len(out))
		skip, n := c.span(at, limit-len(out))
		for i := range n {
			out = append(out, *c.at(skip + i))
		}
		next := at + int64(n)
		switch {
		case len(out) == limit:
			c.mu.Unlock()
			return out, nil
		case next == c.end() && c.loading != nil:
			wait := c.loading
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		leads := next == c.end()
		if leads {
			c.loading = make(chan struct{})
		}
		gen, began := c.gen, c.now()
		c.mu.Unlock()

		rest, err := read(next, limit-len(out))

		c.mu.Lock()
		if err == nil && gen == c.gen {
			c.add(rest, began)
		}
		if leads {
			close(c.loading)
			c.loading = nil
		}
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return append(out, rest...), nil
	}
}

// LeavesThrough returns the Merkle leaves of the feed's events from
// position from on, at most limit: those of the events the cache holds,
// checked dense as MerkleLeaves checks them, then read(from', limit') for
// the rest. It hashes the cached events where they are, a chunk at a time
// under the lock, rather than copying them out: the tree's builder takes
// every event of the feed through here.
func (c *FeedCache) LeavesThrough(from int64, limit int, read func(from int64, limit int) ([]domain.Hash, error)) ([]domain.Hash, error) {
	const chunk = 256 // what the lock is held for: a quarter of a millisecond of hashing
	leaves := make([]domain.Hash, 0, limit)
	for len(leaves) < limit {
		c.mu.Lock()
		at := from + int64(len(leaves))
		skip, n := c.span(at, min(chunk, limit-len(leaves)))
		part, err := MerkleLeaves(at, n, func(i int, e *domain.Event) error { *e = *c.at(skip + i); return nil })
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if len(part) == 0 {
			break
		}
		leaves = append(leaves, part...)
	}
	if len(leaves) == limit {
		return leaves, nil
	}
	rest, err := read(from+int64(len(leaves)), limit-len(leaves))
	if err != nil {
		return nil, err
	}
	return append(leaves, rest...), nil
}

// Forget tells the cache that streamID's payloads were pruned: its cached
// events lose theirs, as the database's did, and reads in flight keep
// nothing of what they read before.
func (c *FeedCache) Forget(streamID string) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for i := range c.n {
		if e := c.at(i); e.StreamID == streamID {
			c.bytes -= len(e.Payload) + len(e.PayloadSalt)
			e.Payload, e.PayloadSalt = nil, nil
		}
	}
}

// span returns where position from is in the cached run and how many
// cached events from it on a read of at most limit takes: none when the
// cache does not hold from. The caller holds mu.
func (c *FeedCache) span(from int64, limit int) (skip, n int) {
	c.expire()
	if from < c.first || from >= c.end() {
		return 0, 0
	}
	skip = int(from - c.first)
	return skip, min(c.n-skip, limit)
}

// at is the i-th oldest cached event. The caller holds mu.
func (c *FeedCache) at(i int) *domain.Event { return &c.ring[(c.start+i)%len(c.ring)] }

// end is the position past the cached run. The caller holds mu.
func (c *FeedCache) end() int64 { return c.first + int64(c.n) }

// add takes in events read from the database by a read that began at
// began: the dense run from events[0].Position on. What extends the
// cached run is kept, the oldest making room; a run newer than the
// cached one and not touching it replaces it; an older one, a lagging
// reader's, is not kept. The caller holds mu.
func (c *FeedCache) add(events []domain.Event, began time.Time) {
	for i := range events {
		if events[i].Position != events[0].Position+int64(i) {
			events = events[:i] // the database skipped a position: keep none of it
			break
		}
	}
	if len(events) == 0 {
		return
	}
	switch from, end := events[0].Position, c.end(); {
	case from > end:
		c.drop(c.n) // the first event taken in below starts the run
	case from+int64(len(events)) <= end:
		return
	default:
		events = events[end-from:]
	}
	if c.ring == nil {
		// FeedCacheBytes never lets more events than this stay.
		slots := min(c.max, FeedCacheBytes/eventOverhead)
		c.ring, c.readAt = make([]domain.Event, slots), make([]time.Time, slots)
	}
	for i := range events {
		if c.n == len(c.ring) {
			c.drop(1)
		}
		slot := (c.start + c.n) % len(c.ring)
		c.ring[slot], c.readAt[slot] = events[i], began
		if c.n == 0 {
			c.first = events[i].Position
		}
		c.n++
		c.bytes += size(&events[i])
	}
	over, bytes := 0, c.bytes
	for over < c.n && bytes > FeedCacheBytes {
		bytes -= size(c.at(over))
		over++
	}
	c.drop(over)
	c.expire()
}

// expire drops the events whose read began more than FeedCacheTTL ago.
// The caller holds mu.
func (c *FeedCache) expire() {
	now, k := c.now(), 0
	for k < c.n && now.Sub(c.readAt[(c.start+k)%len(c.ring)]) > FeedCacheTTL {
		k++
	}
	c.drop(k)
}

// drop removes the k oldest events, letting go of their payloads. The
// caller holds mu.
func (c *FeedCache) drop(k int) {
	for range k {
		e := c.at(0)
		c.bytes -= size(e)
		*e = domain.Event{}
		c.start = (c.start + 1) % len(c.ring)
		c.n--
		c.first++
	}
	if c.n == 0 {
		// The next read, wherever it is, starts a run.
		c.start, c.first, c.bytes = 0, 0, 0
	}
}

// size is what an event counts against FeedCacheBytes.
func size(e *domain.Event) int {
	m := &e.Metadata
	return eventOverhead + len(e.Payload) + len(e.PayloadSalt) + len(e.StreamID) + len(e.StreamType) + len(e.TenantID) + len(e.Type) +
		len(m.Actor) + len(m.RequestID) + len(m.CausationID) + len(m.CorrelationID)
}
