package readapi_test

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/axontask/axontask/internal/testwait"
)

// waitAcked waits until the peer of c has acknowledged every byte written
// to c: they are in the peer's socket, whether or not it has read them.
func waitAcked(t *testing.T, c *net.TCPConn) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the bytes to reach the server", func() bool {
		var info *unix.TCPInfo
		var ierr error
		if err := raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil || ierr != nil {
			t.Fatalf("TCP_INFO: %v %v", err, ierr)
		}
		return info.Unacked == 0 && info.Notsent_bytes == 0
	})
}
