//go:build !unix

package sse

import "net"

// discardInput cannot read without waiting here: a parked stream's
// departed client is noticed when a write to it fails.
func discardInput(net.Conn) bool { return false }

// writeNoWait cannot write without waiting here: it leaves b to the
// stream's drainer.
func writeNoWait(net.Conn, []byte) (int, error) { return 0, nil }
