package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/api"
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
	// ProtectedResourceFunc, when set, returns the endpoint's OAuth
	// resource identifier for a request (its public URL, RFC 8707) and the
	// URL of its metadata (RFC 9728; oauth.Server's Resource and
	// ResourceMetadataURL): Authenticator then also takes the OAuth access
	// tokens bound to that resource (see commands.ForResource), and a 401
	// points clients to the metadata, where their sign-in starts. Nil: API
	// keys and the API's access tokens only.
	ProtectedResourceFunc func(r *http.Request) (resource, metadataURL string)
	// Scope, with ProtectedResourceFunc, is the space-separated scopes the
	// endpoint's tools need, named in the 401's challenge (scope, RFC 6750
	// section 3), so that an OAuth client asks for those and no more (the
	// MCP authorization specification's scope selection). Empty: none
	// named.
	Scope string
}

// NewHTTPHandler returns the Streamable HTTP endpoint of server: a
// stateless handler (every POST is a whole exchange, so that any API
// process can serve any request, and protocol 2026-07-28 is served beside
// the older revisions), behind a bearer check that answers before any MCP
// processing (see unauthorized). Serve it at Path (see WithEndpoint);
// server's tools should use BearerClient.
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
	h := liftTaskBody(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          cfg.MaxRequestBodyBytes,
		DisableLocalhostProtection:   cfg.DisableLocalhostProtection,
		PropagateRequestCancellation: true,
		Logger:                       slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn}),
	}), cfg.MaxRequestBodyBytes)
	// API keys do not expire; access tokens do, and Authenticate checks.
	withTokenInfo := auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c challenge
		if cfg.ProtectedResourceFunc != nil {
			var resource string
			resource, c.metadataURL = cfg.ProtectedResourceFunc(r)
			c.scope = cfg.Scope
			r = r.WithContext(commands.ForResource(r.Context(), resource))
		}
		token, ok := bearer(r.Header)
		if !ok {
			unauthorized(w, c, "", "this request carries no API key: send the header Authorization: Bearer <API key or access token> (axontask dev prints a key; POST /v1/api-keys makes one)")
			return
		}
		p, err := cfg.Authenticator.Authenticate(r.Context(), token)
		switch {
		case errors.Is(err, commands.ErrUnauthenticated):
			// Authenticate's errors never contain the credential.
			unauthorized(w, c, "invalid_token", fmt.Sprintf("the API key or access token was refused (%v): send Authorization: Bearer <a valid API key or access token>", err))
			return
		case err != nil:
			cfg.Logger.ErrorContext(r.Context(), "mcp: check a bearer credential", "err", err)
			w.Header().Set("Retry-After", "2")
			api.WriteProblem(w, api.Problem{Type: api.ProblemTypeBase + "store-unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable,
				Detail: "the server could not check the credential; try again"})
			return
		}
		withTokenInfo.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}), nil
}

// principalKey keys the caller that NewHTTPHandler authenticated in a
// request's context, for tokenInfo.
type principalKey struct{}

// tokenInfo hands the SDK the caller NewHTTPHandler authenticated, as the
// token info that tool calls see (req.Extra.TokenInfo: Config.CalledFunc
// reads the tenant there). The SDK sets token info only through
// RequireBearerToken; the credential was checked already, so this
// verifier only reads the result.
func tokenInfo(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
	p, ok := r.Context().Value(principalKey{}).(commands.Principal)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	return &auth.TokenInfo{UserID: p.Actor(), Scopes: p.Scopes.Strings(), Extra: map[string]any{"tenant_id": p.TenantID, "role": string(p.Role)}}, nil
}

// challenge is what a 401's WWW-Authenticate names of OAuth: the
// resource's metadata and the scopes to ask for; empty without OAuth.
type challenge struct{ metadataURL, scope string }

// unauthorized answers 401 with an application/problem+json body that
// says what to send, and a WWW-Authenticate challenge. With OAuth on,
// the challenge names the resource's metadata (resource_metadata, RFC
// 9728), where an MCP client (the TypeScript SDK, the Inspector) starts
// its sign-in, and the scopes to ask for (scope); without, it names
// neither, and a client reports the body rather than start an OAuth
// discovery that has nothing to find. code is RFC 6750's error code:
// empty when no credential came (RFC 6750 section 3.1), else
// invalid_token.
func unauthorized(w http.ResponseWriter, c challenge, code, detail string) {
	header := `Bearer realm="axontask"`
	if c.metadataURL != "" {
		header += fmt.Sprintf(`, resource_metadata=%q`, c.metadataURL)
		if c.scope != "" {
			header += fmt.Sprintf(`, scope=%q`, c.scope)
		}
	}
	if code != "" {
		header += fmt.Sprintf(`, error=%q, error_description=%q`, code, strings.ReplaceAll(detail, `"`, "'"))
	}
	w.Header().Set("WWW-Authenticate", header)
	api.WriteProblem(w, api.Problem{
		Type: api.ProblemTypeBase + "unauthenticated", Title: "Unauthenticated", Status: http.StatusUnauthorized,
		Detail: detail, Field: "Authorization",
	})
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
