// Package testwait waits in tests for a condition that other goroutines
// or processes make true.
package testwait

import (
	"fmt"
	"testing"
	"time"
)

// Timeout is how long For waits before it fails the test.
const Timeout = 30 * time.Second

// interval is how often a condition is polled.
const interval = 10 * time.Millisecond

// For polls cond every 10 ms until it holds, and fails t when it still
// does not after Timeout; what names the condition in the failure.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Until(Timeout, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Until polls cond every 10 ms until it holds or timeout has passed, and
// reports whether it held; it fails nothing, for a test that measures how
// long a condition takes or goes on after it did not come.
func Until(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
	return true
}

// window is how many items ahead of the first one not done ForAll polls.
const window = 64

// ForAll polls done(i) for each i in 0 … n-1 until it holds for all, and
// fails t when for Timeout it newly holds for none: a guard against a
// stall, not a measure of speed, so a slow machine running many items
// passes. It polls, in order, the items not done yet among the window
// items from the first one not done; what names the items in the failure.
func ForAll(t testing.TB, what string, n int, done func(i int) bool) {
	t.Helper()
	ok := make([]bool, n)
	next := 0
	for next < n {
		For(t, fmt.Sprintf("one more of %d %s (%d in order so far)", n, what, next), func() bool {
			progressed := false
			for i := next; i < min(next+window, n); i++ {
				if !ok[i] && done(i) {
					ok[i], progressed = true, true
				}
			}
			for next < n && ok[next] {
				next++
			}
			return progressed
		})
	}
}
