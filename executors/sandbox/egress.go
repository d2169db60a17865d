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
)

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
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64: maps to IPv4, private included
	netip.MustParsePrefix("2001:db8::/32"), // documentation
}

// PublicOnly is the default egress policy: it refuses loopback, private,
// link-local (cloud metadata at 169.254.169.254 among them), multicast and
// reserved addresses, and every address of the worker's own host, so that
// a task reaches neither the server's ports nor other local services.
func PublicOnly(own []netip.Addr) func(netip.AddrPort) error {
	return func(ap netip.AddrPort) error {
		ip := ap.Addr().Unmap()
		switch {
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
		for _, a := range own {
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
	srv *http.Server
	ln  net.Listener
	wg  sync.WaitGroup
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
	p := &egressProxy{ln: ln}
	transport := &http.Transport{Proxy: nil, DialContext: dialer.DialContext, ForceAttemptHTTP2: false, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second}
	forward := &httputil.ReverseProxy{
		Rewrite:      func(r *httputil.ProxyRequest) { r.Out.URL = r.In.URL; r.Out.Host = r.In.Host },
		Transport:    transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) { refuse(w, err) },
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	p.srv = &http.Server{
		ReadHeaderTimeout: 30 * time.Second,
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
	p.wg.Go(func() { _ = p.srv.Serve(ln) })
	return p, nil
}

// refusedError is a destination the egress policy refused.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }

// refuse answers a request the proxy could not, or would not, carry out.
func refuse(w http.ResponseWriter, err error) {
	var re *refusedError
	if errors.As(err, &re) {
		http.Error(w, "egress refused: "+re.Error()+"; tasks reach only public internet addresses, never the worker's host, private ranges or cloud metadata", http.StatusForbidden)
		return
	}
	http.Error(w, "egress failed: "+err.Error(), http.StatusBadGateway)
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
		refuse(w, err)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	if n := buf.Reader.Buffered(); n > 0 {
		b, _ := buf.Peek(n)
		_, _ = up.Write(b)
	}
	splice(conn, up)
}

// splice copies between a and b both ways until both directions end.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
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

// close stops the proxy and every connection it carries.
func (p *egressProxy) close() {
	_ = p.srv.Close()
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
				splice(c, up)
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
