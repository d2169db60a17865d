// Package broadcast wakes every waiter at once, without polling.
package broadcast

import "sync"

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
