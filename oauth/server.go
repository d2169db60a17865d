package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/ratelimit"
)

// Paths the server answers (Handler) and the dashboard serves
// (AuthorizePath).
const (
	ResourceMetadataPath = "/.well-known/oauth-protected-resource"
	ServerMetadataPath   = "/.well-known/oauth-authorization-server"
	AuthorizePath        = "/oauth/authorize"
	TokenPath            = "/oauth/token"
	RegisterPath         = "/oauth/register"
	RevokePath           = "/oauth/revoke"
	// ResourcePath is the protected resource: the MCP endpoint.
	ResourcePath = "/mcp"
)

// Lifetimes and limits.
const (
	// CodeTTL is how long an authorization code may be redeemed.
	CodeTTL = time.Minute
	// RefreshTTL is how long a refresh token stays usable; each rotation
	// starts it again.
	RefreshTTL = 30 * 24 * time.Hour
	// MaxRedirectURIs bounds a client's redirect URIs.
	MaxRedirectURIs = 5
	// MaxURILen bounds a redirect URI, in bytes.
	MaxURILen = 512
	// MaxClientNameLen bounds a client's name, in bytes.
	MaxClientNameLen = 100
	// MaxStateLen bounds the state parameter, in bytes.
	MaxStateLen = 1024
	// RegistrationsPerMinute bounds registrations per client address.
	RegistrationsPerMinute = 10
)

// DefaultScope is what a client gets when it asks for no scope: enough to
// run and follow tasks, not to manage the tenant.
const DefaultScope = "tasks:read tasks:write"

// Config configures New.
type Config struct {
	// Store keeps clients, codes and refresh token families; required.
	Store eventstore.OAuthStore
	// Issuer signs the access tokens and checks the dashboard's; required.
	Issuer *auth.Issuer
	// Members tells a user's role now, before each token; required.
	Members Members
	// PublicURL is this server's URL as its clients reach it,
	// scheme://host[:port] with no path (PUBLIC_URL): the issuer, and with
	// /mcp the resource every token is bound to. Empty: each request's own
	// (its Host, https when it came over TLS or, with TrustProxy, when
	// X-Forwarded-Proto says so), so that a token is bound to the URL its
	// client used.
	PublicURL string
	// TrustProxy reads X-Forwarded-Proto (behind a reverse proxy).
	TrustProxy bool
	// Limiter bounds registrations per client address (default an
	// in-memory limiter; pass the Redis one when several processes serve).
	Limiter ratelimit.Limiter
	// Logger logs what fails inside (default slog.Default).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the authorization server. It is safe for concurrent use.
type Server struct {
	store      eventstore.OAuthStore
	issuer     *auth.Issuer
	members    Members
	base       string // PublicURL's; empty: each request's
	trustProxy bool
	limiter    ratelimit.Limiter
	logger     *slog.Logger
	now        func() time.Time
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("oauth config: Store is required")
	case cfg.Issuer == nil:
		return nil, errors.New("oauth config: Issuer is required")
	case cfg.Members == nil:
		return nil, errors.New("oauth config: Members is required")
	}
	s := &Server{store: cfg.Store, issuer: cfg.Issuer, members: cfg.Members, trustProxy: cfg.TrustProxy, limiter: cfg.Limiter, logger: cfg.Logger, now: cfg.Now}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("oauth config: PublicURL %q must be scheme://host[:port], like https://axontask.example (set PUBLIC_URL)", cfg.PublicURL)
		}
		s.base = u.Scheme + "://" + u.Host
	}
	if s.limiter == nil {
		s.limiter = ratelimit.NewMemory(nil)
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// baseOf returns the server's URL for r: PublicURL, or r's own.
func (s *Server) baseOf(r *http.Request) string {
	if s.base != "" {
		return s.base
	}
	scheme := "http"
	if r.TLS != nil || (s.trustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Resource returns the protected resource's identifier for r (RFC 8707):
// the public URL of /mcp, the audience of the tokens /mcp takes.
func (s *Server) Resource(r *http.Request) string { return s.baseOf(r) + ResourcePath }

// ResourceMetadataURL returns where the resource's metadata is for r (RFC
// 9728), for the resource_metadata parameter of /mcp's WWW-Authenticate
// challenge.
func (s *Server) ResourceMetadataURL(r *http.Request) string {
	return s.baseOf(r) + ResourceMetadataPath + ResourcePath
}

// parseScope checks a space-separated scope; empty means DefaultScope.
func parseScope(scope string) (string, error) {
	if strings.TrimSpace(scope) == "" {
		return DefaultScope, nil
	}
	scopes, err := domain.ParseScopes(strings.Fields(scope))
	if err != nil {
		return "", err
	}
	return scopes.String(), nil
}
