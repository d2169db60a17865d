//go:build !linux

package readapi_test

import (
	"net"
	"testing"
	"time"
)

// waitAcked gives the bytes written to c time to reach the server: only
// Linux tells when the peer has acknowledged them (TCP_INFO).
func waitAcked(_ *testing.T, _ *net.TCPConn) { time.Sleep(100 * time.Millisecond) }
