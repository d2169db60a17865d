package postgres

import (
	"sync"

	"github.com/axontask/axontask/eventstore/internal/engine"
)

// headCache remembers the heads of streams this store appended to, so a
// stream with one writer (a worker streaming output) appends without reading
// its head first. An entry is only ever a committed head; a stale entry is
// harmless because the (stream_id, seq) constraint turns it into a conflict.
type headCache struct {
	mu    sync.Mutex
	max   int
	heads map[string]engine.Head
}

func newHeadCache(max int) *headCache {
	return &headCache{max: max, heads: make(map[string]engine.Head)}
}

func (c *headCache) get(stream string) (engine.Head, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.heads[stream]
	return h, ok
}

func (c *headCache) put(stream string, h engine.Head) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(stream, h)
}

// advance records h as stream's head unless a later head is known.
func (c *headCache) advance(stream string, h engine.Head) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if known, ok := c.heads[stream]; !ok || known.Seq < h.Seq {
		c.putLocked(stream, h)
	}
}

// putLocked records h as stream's head, making room if the cache is
// full. The caller holds mu.
func (c *headCache) putLocked(stream string, h engine.Head) {
	if _, ok := c.heads[stream]; !ok && len(c.heads) >= c.max {
		for k := range c.heads { // evict an arbitrary entry
			delete(c.heads, k)
			break
		}
	}
	c.heads[stream] = h
}

func (c *headCache) drop(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.heads, stream)
}
