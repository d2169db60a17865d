// Package broadcast wakes every waiter at once, without polling: a bare
// Signal, and a growing Head (a feed head) built on it.
package broadcast

import (
	"sync"
	"sync/atomic"
)

// Signal is a reusable wake-up for any number of waiters. The zero value is
// ready to use and safe for concurrent use.
//
// To wait without missing a wake-up, take the channel first, then check the
// condition, then block on the channel:
//
//	ch := sig.Wait()
//	if done() { return }
//	<-ch
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel that is closed by the next Broadcast.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Broadcast wakes every goroutine blocked on a channel returned by Wait.
func (s *Signal) Broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Head is a value that only grows, such as a feed head, whose growth wakes
// waiters. The zero value is ready to use and safe for concurrent use.
type Head struct {
	v   atomic.Int64
	sig Signal
}

// Load returns the largest value advanced to.
func (h *Head) Load() int64 { return h.v.Load() }

// Wait returns a channel closed at the next growth (or Wake). Take it
// before Load, so that no growth is missed.
func (h *Head) Wait() <-chan struct{} { return h.sig.Wait() }

// Advance records v and, if it is larger than the value held, wakes every
// waiter. The value is stored before the wake-up, so a woken waiter sees it.
func (h *Head) Advance(v int64) {
	for {
		cur := h.v.Load()
		if v <= cur {
			return
		}
		if h.v.CompareAndSwap(cur, v) {
			h.sig.Broadcast()
			return
		}
	}
}

// Wake wakes every waiter without a change, for them to re-check (on Close).
func (h *Head) Wake() { h.sig.Broadcast() }
