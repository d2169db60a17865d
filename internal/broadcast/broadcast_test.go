package broadcast

import (
	"sync"
	"testing"
	"time"
)

func TestBroadcastWakesEveryWaiter(t *testing.T) {
	t.Parallel()
	var s Signal
	var wg sync.WaitGroup
	for range 10 {
		ch := s.Wait()
		wg.Add(1)
		go func() { defer wg.Done(); <-ch }()
	}
	s.Broadcast()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("waiters were not woken")
	}
	select {
	case <-s.Wait():
		t.Fatal("a channel taken after Broadcast is already closed")
	default:
	}
}

func TestBroadcastWithoutWaitersIsHarmless(t *testing.T) {
	t.Parallel()
	var s Signal
	s.Broadcast()
	s.Broadcast()
	ch := s.Wait()
	s.Broadcast()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken")
	}
}
