// Package testwait waits in tests for a condition that other goroutines
// or processes make true.
package testwait

import (
	"testing"
	"time"
)

// Timeout is how long For waits before it fails the test.
const Timeout = 30 * time.Second

// For polls cond every 10 ms until it holds, and fails t when it still
// does not after Timeout; what names the condition in the failure.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(Timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
