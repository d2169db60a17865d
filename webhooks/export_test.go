package webhooks

import (
	"net"
	"net/url"
)

// UseResolver makes g resolve names with r, a test's DNS server.
func (g *Guard) UseResolver(r *net.Resolver) { g.resolver = r }

// CheckURL runs g.CheckURL on a URL string.
func CheckURL(g *Guard, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	return g.CheckURL(u)
}
