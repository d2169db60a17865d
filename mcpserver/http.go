package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/commands"
)

// Path is where the API server serves the Streamable HTTP endpoint: this
// exact path only, for the task API's REST routes live under /mcp/.
const Path = "/mcp"

// DefaultMaxRequestBodyBytes bounds an MCP request body: the task API's
// own bound (readapi.MaxBodyBytes).
const DefaultMaxRequestBodyBytes = 1 << 20

// Authenticator checks a bearer credential (*commands.Authenticator): an API key
// or an access token. A credential that is missing, malformed, expired,
// unknown or revoked fails with an error matching
// commands.ErrUnauthenticated.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (commands.Principal, error)
}

// HTTPConfig configures NewHTTPHandler.
type HTTPConfig struct {
	// Authenticator checks every request's bearer credential before any MCP
	// processing; required.
	Authenticator Authenticator
	// MaxRequestBodyBytes bounds a request body; larger ones answer 413
	// (default DefaultMaxRequestBodyBytes).
	MaxRequestBodyBytes int64
	// DisableLocalhostProtection turns off the SDK's protection against DNS
	// rebinding, which refuses (403) a request that reached a loopback
	// address with a Host header that is not a loopback name. A reverse
	// proxy on the same machine that forwards the public Host needs it off;
	// every request needs a valid bearer credential either way.
	DisableLocalhostProtection bool
	// Logger receives the SDK's warnings and the failures to check a
	// credential (default slog.Default()).
	Logger *slog.Logger
}

// NewHTTPHandler returns the Streamable HTTP endpoint of server: a
// stateless handler (every POST is a whole exchange, so that any API
// process can serve any request, and protocol 2026-07-28 is served beside
// the older revisions), behind a bearer check that answers 401, with
// WWW-Authenticate: Bearer, before any MCP processing. Serve it at Path
// (see WithEndpoint); server's tools should use BearerClient.
func NewHTTPHandler(server *mcp.Server, cfg HTTPConfig) (http.Handler, error) {
	switch {
	case server == nil:
		return nil, errors.New("mcpserver http config: the server is nil")
	case cfg.Authenticator == nil:
		return nil, errors.New("mcpserver http config: Authenticator is nil; pass one that checks bearer credentials")
	case cfg.MaxRequestBodyBytes < 0:
		return nil, fmt.Errorf("mcpserver http config: MaxRequestBodyBytes is %d; it must be positive", cfg.MaxRequestBodyBytes)
	}
	if cfg.MaxRequestBodyBytes == 0 {
		cfg.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          cfg.MaxRequestBodyBytes,
		DisableLocalhostProtection:   cfg.DisableLocalhostProtection,
		PropagateRequestCancellation: true,
		Logger:                       slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn}),
	})
	protected := auth.RequireBearerToken(verifier(cfg.Authenticator, cfg.Logger), &auth.RequireBearerTokenOptions{
		// API keys do not expire; access tokens do, and Authenticate checks.
		AllowMissingExpiration: true,
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Del("WWW-Authenticate")
		h.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RequireBearerToken challenges only when it has resource metadata
		// to name; a 401 of the API always says how to authenticate.
		w.Header().Set("WWW-Authenticate", `Bearer realm="axontask"`)
		protected.ServeHTTP(w, r)
	}), nil
}

// verifier checks bearer credentials with a. Its errors become the body of
// the 401 (or 500): they never hold the credential.
func verifier(a Authenticator, logger *slog.Logger) auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		p, err := a.Authenticate(ctx, token)
		switch {
		case errors.Is(err, commands.ErrUnauthenticated):
			// Authenticate's errors never contain the credential.
			return nil, fmt.Errorf("%w: %w; send Authorization: Bearer <API key or access token>", auth.ErrInvalidToken, err)
		case err != nil:
			logger.ErrorContext(ctx, "mcp: check a bearer credential", "err", err)
			return nil, errors.New("the server could not check the credential; try again")
		}
		return &auth.TokenInfo{
			UserID: p.Actor(),
			Scopes: p.Scopes.Strings(),
			Extra:  map[string]any{"tenant_id": p.TenantID, "role": string(p.Role)},
		}, nil
	}
}

// WithEndpoint serves endpoint at exactly Path and next everywhere else,
// /mcp/... included: the MCP endpoint beside the task API.
func WithEndpoint(next, endpoint http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Path {
			endpoint.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
