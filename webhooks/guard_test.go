package webhooks_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/webhooks"
)

// get asks url through g's client and returns the error.
func get(t *testing.T, g *webhooks.Guard, url string) error {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.Client(2 * time.Second).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	return err
}

// A receiver listening on loopback is refused by the guard, whether its URL
// names it by address or by a name that resolves to it, unless the
// operator allow-lists the host (then by exactly that host[:port]).
func TestGuardRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	none, _ := webhooks.ParseAllowedHosts("")
	for _, u := range []string{srv.URL, "http://localhost" + port, "http://[::1]" + port, "http://10.1.2.3:80", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1", "http://[::ffff:127.0.0.1]" + port} {
		err := get(t, none, u)
		var refused *webhooks.RefusedAddressError
		if !errors.As(err, &refused) {
			t.Errorf("%s: %v, want a *RefusedAddressError", u, err)
		}
	}
	for _, spec := range []string{"127.0.0.1", "127.0.0.1" + port, "localhost", "other.example, 127.0.0.1"} {
		g, err := webhooks.ParseAllowedHosts(spec)
		if err != nil {
			t.Fatal(err)
		}
		host := "127.0.0.1"
		if spec == "localhost" {
			host = "localhost"
		}
		if err := get(t, g, "http://"+host+port); err != nil {
			t.Errorf("allowed %q: %v", spec, err)
		}
	}
	if g, _ := webhooks.ParseAllowedHosts("127.0.0.1:1"); get(t, g, srv.URL) == nil {
		t.Errorf("a host allowed on another port was reached")
	}
	if hits.Load() != 4 {
		t.Errorf("the receiver got %d requests, want the 4 allowed ones", hits.Load())
	}
}

// A redirect, even to an allowed host, is not followed.
func TestGuardFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirector.Close)
	g, _ := webhooks.ParseAllowedHosts("127.0.0.1")
	if err := get(t, g, redirector.URL); !errors.Is(err, webhooks.ErrRedirect) || hits.Load() != 0 {
		t.Errorf("a redirect: %v, %d requests at its target; want ErrRedirect and none", err, hits.Load())
	}
}

// DNS rebinding: a name that resolves to a public address at one look-up
// and to loopback at the next is refused at the connection that would
// reach loopback, since every connection's address is checked after its
// own resolution.
func TestGuardRefusesRebinding(t *testing.T) {
	t.Parallel()
	var lookups atomic.Int64
	dns := startDNS(t, func(q dnsmessage.Question) netip.Addr {
		switch {
		case q.Type != dnsmessage.TypeA:
			return netip.Addr{}
		case lookups.Add(1)%2 == 1:
			return netip.MustParseAddr("192.0.2.1") // TEST-NET-1: public in form, routed nowhere
		}
		return netip.MustParseAddr("127.0.0.1")
	})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	g, _ := webhooks.ParseAllowedHosts("")
	g.UseResolver(dns)
	u := "http://rebind.example" + srv.URL[strings.LastIndex(srv.URL, ":"):]
	if err := webhooks.CheckURL(g, u); err != nil {
		t.Fatalf("a name is not refused when the endpoint is made: %v", err)
	}
	first := get(t, g, u) // 192.0.2.1: allowed, but unreachable
	var refused *webhooks.RefusedAddressError
	if errors.As(first, &refused) {
		t.Fatalf("the public answer was refused: %v", first)
	}
	second := get(t, g, u)
	if !errors.As(second, &refused) || refused.Addr.String() != "127.0.0.1" || hits.Load() != 0 {
		t.Fatalf("the loopback answer: %v, %d requests reached loopback; want refused, none", second, hits.Load())
	}
}

// A literal refused address is refused when the endpoint is made, naming
// url; an allowed one and names are not.
func TestGuardCheckURL(t *testing.T) {
	t.Parallel()
	none, _ := webhooks.ParseAllowedHosts("")
	for _, u := range []string{"https://127.0.0.1/x", "https://[::1]/", "https://10.0.0.7:8443/", "https://169.254.169.254/"} {
		var ve *domain.ValidationError
		if err := webhooks.CheckURL(none, u); !errors.As(err, &ve) || ve.Field != "url" {
			t.Errorf("CheckURL(%s) = %v, want a validation error of url", u, err)
		}
	}
	allowed, _ := webhooks.ParseAllowedHosts("127.0.0.1:8443")
	for g, u := range map[*webhooks.Guard]string{none: "https://hooks.example.com/", allowed: "https://127.0.0.1:8443/"} {
		if err := webhooks.CheckURL(g, u); err != nil {
			t.Errorf("CheckURL(%s): %v", u, err)
		}
	}
	if _, err := webhooks.ParseAllowedHosts("http://x/"); err == nil {
		t.Errorf("a URL in WEBHOOK_ALLOWED_HOSTS was accepted")
	}
}
