//go:build linux

package sandbox

import (
	"net/netip"
	"testing"
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
