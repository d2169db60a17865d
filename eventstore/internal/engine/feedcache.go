package engine

import (
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// Bounds of a FeedCache: what it may hold, and for how long.
const (
	// FeedCacheEvents bounds the events a FeedCache holds.
	FeedCacheEvents = 16384
	// FeedCacheBytes bounds the payload and metadata bytes it holds.
	FeedCacheBytes = 32 << 20
	// FeedCacheTTL is how long it serves an event after reading it: a
	// payload pruned by another process since is served as it was for at
	// most this long.
	FeedCacheTTL = 10 * time.Second
)

// eventOverhead is what a cached event costs besides its payload and
// metadata's strings: the struct and its identifiers, roughly.
const eventOverhead = 256

// FeedCache keeps the newest stretch of the feed a store has read, so that
// the feed's consumers in one process — the relay, the projections, the
// webhook dispatcher, the tenant feed's indexer, the Merkle tree's builder —
// each take a page from the database once between them rather than once
// each: they all follow the head, a few milliseconds apart.
//
// It holds one dense run of positions, the newest read, bounded by
// FeedCacheEvents, FeedCacheBytes and FeedCacheTTL. What it holds is what
// the database held: a position, once read, never changes, except that
// retention prunes payloads — the store clears its cache when it prunes,
// and the TTL bounds how long a prune by another process goes unseen. The
// zero value is empty and ready; it is safe for concurrent use.
type FeedCache struct {
	mu     sync.Mutex
	first  int64          // the position of events[0]
	events []domain.Event // dense: events[i] is at position first+i
	readAt []time.Time    // when events[i] was read from the database
	bytes  int
}

// ReadThrough returns the feed's events from position from on, at most
// limit: copies of those the cache holds, then read(from', limit') of the
// rest, which it takes in.
func (c *FeedCache) ReadThrough(from int64, limit int, read func(from int64, limit int) ([]domain.Event, error)) ([]domain.Event, error) {
	cached := c.read(from, limit)
	if len(cached) == limit {
		return cached, nil
	}
	rest, err := read(from+int64(len(cached)), limit-len(cached))
	if err != nil {
		return nil, err
	}
	c.add(rest)
	return append(cached, rest...), nil
}

// LeavesThrough returns the Merkle leaves of the feed's events from
// position from on, at most limit: those of the events the cache holds,
// then read(from', limit') for the rest.
func (c *FeedCache) LeavesThrough(from int64, limit int, read func(from int64, limit int) ([]domain.Hash, error)) ([]domain.Hash, error) {
	events := c.read(from, limit)
	leaves := make([]domain.Hash, len(events), limit)
	for i := range events {
		leaves[i] = integrity.LeafHash(&events[i])
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

// read returns copies of the cached events from position from on, at most
// limit of them: a prefix of what the feed holds there, empty when the
// cache does not hold from.
func (c *FeedCache) read(from int64, limit int) []domain.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(time.Now())
	if from < c.first || from >= c.first+int64(len(c.events)) {
		return nil
	}
	i := int(from - c.first)
	return append([]domain.Event(nil), c.events[i:min(len(c.events), i+limit)]...)
}

// add takes in events just read from the database, dense from
// events[0].Position. Those that extend the cached run are kept; a run
// newer than the cached one and not touching it replaces it; older ones,
// a lagging reader's, are not kept.
func (c *FeedCache) add(events []domain.Event) {
	if len(events) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.first + int64(len(c.events))
	switch from := events[0].Position; {
	case from > end:
		c.drop(len(c.events))
		c.first = from
	case from+int64(len(events)) <= end:
		return
	default:
		events = events[end-from:]
	}
	now := time.Now()
	for i := range events {
		c.events = append(c.events, events[i])
		c.readAt = append(c.readAt, now)
		c.bytes += size(&events[i])
	}
	over, bytes := 0, c.bytes
	for over < len(c.events) && (len(c.events)-over > FeedCacheEvents || bytes > FeedCacheBytes) {
		bytes -= size(&c.events[over])
		over++
	}
	c.drop(over)
}

// Clear empties the cache: the store calls it when it changes what it has
// read, as retention's pruning does.
func (c *FeedCache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(len(c.events))
}

// expire drops the events read more than FeedCacheTTL before now.
func (c *FeedCache) expire(now time.Time) {
	n := 0
	for n < len(c.readAt) && now.Sub(c.readAt[n]) > FeedCacheTTL {
		n++
	}
	c.drop(n)
}

// drop removes the n oldest events, letting go of their payloads.
func (c *FeedCache) drop(n int) {
	if n == 0 {
		return
	}
	for i := range n {
		c.bytes -= size(&c.events[i])
	}
	clear(c.events[:n])
	c.events, c.readAt = c.events[n:], c.readAt[n:]
	c.first += int64(n)
	if len(c.events) == 0 {
		// The next read, wherever it is, starts a run.
		c.first, c.events, c.readAt, c.bytes = 0, nil, nil, 0
	}
}

// size is what an event counts against FeedCacheBytes.
func size(e *domain.Event) int {
	m := &e.Metadata
	return eventOverhead + len(e.Payload) + len(e.PayloadSalt) + len(m.Actor) + len(m.RequestID) + len(m.CausationID) + len(m.CorrelationID)
}
