//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/netutil"
)

// Egress: a task whose Limits allow it reaches the internet only through
// an HTTP proxy of the worker's. Its network namespace keeps no other way
// out: init listens on proxyAddr inside and carries each connection over
// a unix socket, mounted at egressSocket, to the proxy, which dials only
// what EgressAllow lets through.
const (
	// proxyAddr is where a task finds the proxy (HTTP_PROXY, HTTPS_PROXY).
	proxyAddr = "127.0.0.1:3128"
	// egressSocket is the proxy's socket inside the sandbox.
	egressSocket = "/.axontask/egress.sock"
	// egressDialTimeout bounds one connection attempt of the proxy.
	egressDialTimeout = 10 * time.Second
	// egressMaxConns bounds the connections one task has open through the
	// proxy at once; more wait.
	egressMaxConns = 64
	// egressIdleTimeout ends a connection or tunnel that carried nothing
	// for this long.
	egressIdleTimeout = 2 * time.Minute
)

// egressPorts are the only ports a task may reach: the web's. Anything
// else (SMTP, SSH) would make the proxy a raw TCP relay.
var egressPorts = map[uint16]bool{80: true, 443: true}

// extraBlocked are ranges that netip's predicates do not call private or
// local but that no task may reach: shared address space (CGNAT),
// benchmarking, IETF protocol assignments, documentation, reserved.
var extraBlocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("192.88.99.0/24"),   // 6to4 relays
	netip.MustParsePrefix("168.63.129.16/32"), // Azure's WireServer (host services)
	netip.MustParsePrefix("64:ff9b::/96"),     // NAT64: maps to IPv4, private included
	netip.MustParsePrefix("64:ff9b:1::/48"),   // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),    // documentation
}

// PublicOnly is the default egress policy: ports 80 and 443 of public
// unicast addresses only. It refuses loopback, private, link-local (cloud
// metadata at 169.254.169.254 among them), multicast and reserved
// addresses, and every address of the worker's own host as ownAddrs gives
// them at the time of each dial, so that a task reaches neither the
// server's ports nor other local services.
func PublicOnly(ownAddrs func() []netip.Addr) func(netip.AddrPort) error {
	return func(ap netip.AddrPort) error {
		ip := ap.Addr().Unmap()
		switch {
		case !egressPorts[ap.Port()]:
			return fmt.Errorf("port %d is not a web port (80, 443)", ap.Port())
		case !ip.IsValid() || ip.IsUnspecified():
			return errors.New("no address")
		case ip.IsLoopback():
			return fmt.Errorf("%s is a loopback address", ip)
		case ip.IsPrivate():
			return fmt.Errorf("%s is a private address", ip)
		case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
			return fmt.Errorf("%s is link-local (cloud metadata lives there)", ip)
		case ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsGlobalUnicast():
			return fmt.Errorf("%s is not a unicast internet address", ip)
		}
		for _, p := range extraBlocked {
			if p.Contains(ip) {
				return fmt.Errorf("%s is in the reserved range %s", ip, p)
			}
		}
		for _, a := range ownAddrs() {
			if a.Unmap() == ip {
				return fmt.Errorf("%s is an address of the worker's own host", ip)
			}
		}
		return nil
	}
}

// hostAddrs returns the addresses of this host's interfaces.
func hostAddrs() []netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr())
		}
	}
	return out
}

// egressProxy is one task's HTTP proxy, on a unix socket.
type egressProxy struct {
	srv       *http.Server
	transport *http.Transport
	ln        net.Listener
	logger    *slog.Logger
	wg        sync.WaitGroup

	mu      sync.Mutex
	tunnels map[net.Conn]bool // hijacked connections, closed with the proxy
	closed  bool
}

// startEgress serves a proxy for one task on a new unix socket at path,
// owned by uid:gid (-1: unchanged), that dials only what allow lets through.
func startEgress(path string, uid, gid int, allow func(netip.AddrPort) error, logger *slog.Logger) (*egressProxy, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen for the task's egress: %w", err)
	}
	err = os.Chmod(path, 0o600)
	if err == nil && uid >= 0 {
		err = os.Chown(path, uid, gid)
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("give the task's egress socket to its uid: %w", err)
	}
	dialer := &net.Dialer{Timeout: egressDialTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if err := allow(ap); err != nil {
			return &refusedError{err}
		}
		return nil
	}}
	p := &egressProxy{ln: netutil.LimitListener(ln, egressMaxConns), logger: logger, tunnels: map[net.Conn]bool{}}
	p.transport = &http.Transport{Proxy: nil, DialContext: dialer.DialContext, ForceAttemptHTTP2: false, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second}
	forward := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.Out.URL = r.In.URL; r.Out.Host = r.In.Host },
		// An upgraded connection would be taken over by the reverse proxy,
		// outside this proxy's count and close: tunnels go through CONNECT.
		ModifyResponse: func(res *http.Response) error {
			if res.StatusCode == http.StatusSwitchingProtocols {
				return errUpgrade
			}
			return nil
		},
		Transport:    p.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { p.refuse(w, r, err) },
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	p.srv = &http.Server{
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       egressIdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodConnect:
				p.tunnel(w, r, dialer)
			case r.URL.IsAbs() && r.URL.Scheme == "http":
				forward.ServeHTTP(w, r)
			default:
				http.Error(w, "this is an HTTP proxy: ask it for an absolute http:// URL, or CONNECT host:port for anything else", http.StatusBadRequest)
			}
		}),
	}
	p.wg.Go(func() { _ = p.srv.Serve(p.ln) })
	return p, nil
}

// errUpgrade refuses a protocol upgrade through the forwarding path.
var errUpgrade = errors.New("protocol upgrades are not proxied; open a CONNECT tunnel instead")

// refusedError is a destination the egress policy refused.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }

// refuse answers a request the proxy could not, or would not, carry out.
// The answer names the host the task asked for, never what it resolved
// to, so that a task cannot map the worker's network through it.
func (p *egressProxy) refuse(w http.ResponseWriter, r *http.Request, err error) {
	host := r.Host
	if r.URL.IsAbs() {
		host = r.URL.Host
	}
	p.logger.Debug("sandbox egress: refused or failed", "host", host, "err", err)
	var re *refusedError
	if errors.Is(err, errUpgrade) {
		http.Error(w, "egress refused: "+errUpgrade.Error(), http.StatusBadGateway)
		return
	}
	if errors.As(err, &re) {
		http.Error(w, "egress refused: "+host+" is not a public internet address on port 80 or 443; tasks never reach the worker's host, private ranges or cloud metadata", http.StatusForbidden)
		return
	}
	http.Error(w, "egress failed: "+host+" could not be reached", http.StatusBadGateway)
}

// tunnel carries a CONNECT through to its destination.
func (p *egressProxy) tunnel(w http.ResponseWriter, r *http.Request, dialer *net.Dialer) {
	host, port, err := net.SplitHostPort(r.Host)
	if _, perr := strconv.Atoi(port); err != nil || perr != nil {
		http.Error(w, "CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), egressDialTimeout)
	defer cancel()
	up, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if !p.track(conn, up) {
		return
	}
	defer p.untrack(conn, up)
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	if n := buf.Reader.Buffered(); n > 0 {
		b, _ := buf.Peek(n)
		_, _ = up.Write(b)
	}
	splice(conn, up, egressIdleTimeout)
}

// track records a tunnel's connections, so that close ends them; it
// closes them and reports false when the proxy is closed already.
func (p *egressProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.tunnels[c] = true
	}
	p.wg.Add(1)
	return true
}

// untrack forgets a tunnel that has ended.
func (p *egressProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.tunnels, c)
	}
	p.wg.Done()
}

// splice copies between a and b both ways until both directions end, or
// nothing has come from either for idle (0: no limit).
func splice(a, b net.Conn, idle time.Duration) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, idleReader{src, idle})
		if c, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = c.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Go(func() { half(a, b) })
	wg.Go(func() { half(b, a) })
	wg.Wait()
	_ = a.Close()
	_ = b.Close()
}

// idleReader fails a Read that waits longer than idle.
type idleReader struct {
	c    net.Conn
	idle time.Duration
}

func (r idleReader) Read(b []byte) (int, error) {
	if r.idle > 0 {
		_ = r.c.SetReadDeadline(time.Now().Add(r.idle))
	}
	return r.c.Read(b)
}

// close stops the proxy and every connection and tunnel it carries, and
// waits for them.
func (p *egressProxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.tunnels {
		_ = c.Close()
	}
	p.mu.Unlock()
	_ = p.srv.Close()
	p.transport.CloseIdleConnections()
	p.wg.Wait()
}

// serveEgress is init's side: it listens on proxyAddr in the sandbox's
// network namespace and carries every connection to the proxy's socket.
func serveEgress() error {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", proxyAddr)
	if err != nil {
		return fmt.Errorf("listen on %s for the egress proxy: %w", proxyAddr, err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				up, err := (&net.Dialer{}).DialContext(context.Background(), "unix", egressSocket)
				if err != nil {
					_ = c.Close()
					return
				}
				splice(c, up, 0)
			}()
		}
	}()
	return nil
}

// proxyEnv are the variables that point a task's programs at the proxy.
func proxyEnv() []string {
	url := "http://" + proxyAddr
	return []string{
		"HTTP_PROXY=" + url, "HTTPS_PROXY=" + url, "http_proxy=" + url, "https_proxy=" + url,
		"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
	}
}
