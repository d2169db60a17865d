//go:build unix

package sse

import (
	"errors"
	"net"
	"syscall"
)

// maxDiscard bounds what discardInput reads in one call.
const maxDiscard = 64 << 10

// discardInput reads and drops what the peer of c sent, without waiting
// (Go's sockets do not block), and reports whether the peer has closed or
// reset the connection. Connections that are not sockets (TLS) are left
// alone: their departure shows when a write fails.
func discardInput(c net.Conn) (closed bool) {
	raw, ok := rawConn(c)
	if !ok {
		return false
	}
	var b [4096]byte
	err := raw.Read(func(fd uintptr) bool {
		for read := 0; read < maxDiscard; {
			n, err := syscall.Read(int(fd), b[:])
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return true // nothing more, for now
			case err != nil || n == 0:
				closed = true // reset, or end of input
				return true
			}
			read += n
		}
		return true // never wait
	})
	return closed || err != nil
}

// writeNoWait writes as much of b to c as its socket takes without
// waiting, and returns how much that was.
func writeNoWait(c net.Conn, b []byte) (int, error) {
	raw, ok := rawConn(c)
	if !ok {
		return 0, nil
	}
	var n int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				werr = err
			}
			if err != nil || m <= 0 {
				break
			}
			n += m
		}
		return true // never wait
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// rawConn returns c's socket, when it is one.
func rawConn(c net.Conn) (syscall.RawConn, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	raw, err := sc.SyscallConn()
	return raw, err == nil
}
