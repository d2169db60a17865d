//go:build linux

package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPublicOnly(t *testing.T) {
	t.Parallel()
	own := netip.MustParseAddr("203.0.114.7") // a public address of "this host"
	allow := PublicOnly(func() []netip.Addr { return []netip.Addr{own} })
	for addr, ok := range map[string]bool{
		"93.184.215.14:443":           true,
		"[2606:2800:21f:cb07::1]:80":  true,
		"203.0.114.7:443":             false, // the worker's own host
		"93.184.215.14:25":            false, // not a web port
		"[2606:2800:21f:cb07::1]:22":  false,
		"168.63.129.16:80":            false, // Azure's host services
		"[64:ff9b:1::a00:1]:80":       false, // local-use NAT64
		"127.0.0.1:8080":              false,
		"127.9.9.9:1":                 false,
		"[::1]:8080":                  false,
		"10.0.0.1:80":                 false,
		"172.16.5.4:80":               false,
		"192.168.1.1:80":              false,
		"169.254.169.254:80":          false, // cloud metadata
		"[fd00:ec2::254]:80":          false, // AWS metadata over IPv6
		"[fe80::1]:80":                false,
		"100.64.0.1:80":               false, // CGNAT
		"0.0.0.0:80":                  false,
		"[::]:80":                     false,
		"224.0.0.1:80":                false,
		"255.255.255.255:80":          false,
		"[::ffff:127.0.0.1]:80":       false, // IPv4-mapped loopback
		"[::ffff:169.254.169.254]:80": false,
		"[64:ff9b::a00:1]:80":         false, // NAT64 of 10.0.0.1
		"198.18.0.1:80":               false,
	} {
		err := allow(netip.MustParseAddrPort(addr))
		if (err == nil) != ok {
			t.Errorf("PublicOnly(%s) = %v, want allowed %t", addr, err, ok)
		}
	}
}

// Closing a task's proxy ends its CONNECT tunnels, even those whose task
// side is still open: a tunnel must not outlive its sandbox.
func TestEgressCloseEndsTunnels(t *testing.T) {
	t.Parallel()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	target := netip.MustParseAddrPort(l.Addr().String())
	sock := filepath.Join(t.TempDir(), "egress.sock")
	p, err := startEgress(sock, -1, -1, func(ap netip.AddrPort) error {
		if ap != target {
			return fmt.Errorf("%s is not the test server", ap)
		}
		return nil
	}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	c, err := (&net.Dialer{}).DialContext(t.Context(), "unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("CONNECT answered %q, %v", status, err)
	}
	up, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = up.Close() }()
	p.close()
	_ = up.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, up); err != nil {
		t.Errorf("the tunnel's far end after close: read %v, want EOF", err)
	}
}
