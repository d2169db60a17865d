package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/axontask/axontask/domain"
)

// refusedPrefixes are the addresses a delivery never connects to, unless
// the operator allow-lists the host: they reach the server's own network,
// not a tenant's receiver.
var refusedPrefixes = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local, cloud metadata)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// RefusedAddressError is a connection the guard refused: the address a
// delivery's host resolved to is internal.
type RefusedAddressError struct {
	// Addr is the refused address.
	Addr netip.Addr
	// What is its kind ("loopback", "private", …).
	What string
}

func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: a %s address; receivers must be on the public internet, or the operator must list the host in WEBHOOK_ALLOWED_HOSTS", e.Addr, e.What)
}

// Refused reports why a delivery may not connect to addr (nil when it may).
func Refused(addr netip.Addr) *RefusedAddressError {
	addr = addr.Unmap()
	for _, r := range refusedPrefixes {
		if r.prefix.Contains(addr) {
			return &RefusedAddressError{Addr: addr, What: r.what}
		}
	}
	if addr.Is4() && addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return &RefusedAddressError{Addr: addr, What: "broadcast"}
	}
	return nil
}

// ErrRedirect is a receiver's 3xx: deliveries never follow redirects, which
// could lead them to an internal address.
var ErrRedirect = errors.New("the receiver answered with a redirect, which deliveries never follow; register the final URL")

// Guard is the outbound side of deliveries: which hosts the operator
// allows beyond the public internet, and the HTTP client that holds to it.
// It is immutable and safe for concurrent use.
type Guard struct {
	allowed map[string]bool // "host" or "host:port", lowercased
	// resolver resolves names on every connection (nil: the system's).
	resolver *net.Resolver
}

// ParseAllowedHosts returns the guard of WEBHOOK_ALLOWED_HOSTS: a
// comma-separated list of "host" (any port) or "host:port" whose addresses
// deliveries may reach even when internal (loopback receivers in tests, a
// self-hoster's internal receivers). Empty allows no internal address.
func ParseAllowedHosts(spec string) (*Guard, error) {
	g := &Guard{allowed: map[string]bool{}}
	for _, h := range strings.Split(spec, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/@?# ") {
			return nil, fmt.Errorf("WEBHOOK_ALLOWED_HOSTS: %q is no host or host:port", h)
		}
		g.allowed[h] = true
	}
	return g, nil
}

// allows reports whether the operator allow-listed hostport ("host:port",
// as a URL or a dialer names it).
func (g *Guard) allows(hostport string) bool {
	hostport = strings.ToLower(hostport)
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return g.allowed[hostport] || g.allowed[host] || g.allowed["["+host+"]"]
}

// CheckURL refuses, when an endpoint is created or changed, a URL whose
// host is a literal refused address, as a *domain.ValidationError of field
// "url". Names are checked on every connection instead (Client), since
// their addresses change.
func (g *Guard) CheckURL(u *url.URL) error {
	addr, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	if err != nil || g.allows(u.Host) || g.allows(u.Hostname()) {
		return nil
	}
	if r := Refused(addr); r != nil {
		return &domain.ValidationError{Field: "url", Reason: "names " + strings.TrimPrefix(r.Error(), "refused to connect to ")}
	}
	return nil
}

// Client returns an HTTP client for deliveries: every connection's address
// is checked after DNS resolution (so a name that resolves to an internal
// address, or starts to, is refused: no DNS rebinding), no proxy from the
// environment, no redirect followed (ErrRedirect), no keep-alive pool
// shared with anything else, and timeout for the whole exchange. Callers
// read response bodies through a bounded reader.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	guarded := &net.Dialer{Timeout: timeout, Control: refuseInternal, Resolver: g.resolver}
	open := &net.Dialer{Timeout: timeout, Resolver: g.resolver}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if g.allows(addr) {
				return open.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return ErrRedirect },
	}
}

// refuseInternal is the dialer's Control: it runs for every address the
// dialer tries, after resolution, before the connection is made.
func refuseInternal(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address and port", address)
	}
	if r := Refused(ap.Addr()); r != nil {
		return r
	}
	return nil
}
