package sqlite

import (
	"testing"
	"time"
)

// WaitBlocked returns once n WaitFeed calls of s are blocked for a later
// position: each holds the wake-up channel and has seen the feed short of
// its position, so only a growth of the feed (an append or the poll) can
// return it. It fails the test if that takes longer than ten seconds, a
// guard against a hang and no measure of speed.
func WaitBlocked(t *testing.T, s *Store, n int64) {
	t.Helper()
	guard := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for s.feed.waiters.Load() < n {
		select {
		case <-guard:
			t.Fatalf("%d of %d WaitFeed calls blocked", s.feed.waiters.Load(), n)
		case <-tick.C:
		}
	}
}
