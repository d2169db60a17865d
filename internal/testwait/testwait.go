// Package testwait waits in tests for a condition that other goroutines
// or processes make true.
package testwait

import (
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
