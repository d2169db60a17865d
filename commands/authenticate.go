package commands

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
)

// Authenticator resolves bearer credentials to principals. It is a query
// that runs before every request, not a command handler: it appends
// nothing, and records a key's use in memory for KeyUsage to write. It is
// safe for concurrent use.
type Authenticator struct {
	deps  *IdentityDeps
	usage *KeyUsage
}

// NewAuthenticator returns an Authenticator that reads credentials through
// deps and records API keys' use in usage.
func NewAuthenticator(deps *IdentityDeps, usage *KeyUsage) *Authenticator {
	return &Authenticator{deps: deps, usage: usage}
}

// Authenticate resolves a bearer credential (an API key or an access token)
// to a principal. Anything else, and a key that is unknown, revoked or whose
// secret does not match, fails with ErrUnauthenticated wrapping the reason;
// errors never contain the credential. A key is checked against its stream
// and its creator's membership on every call, so a revocation, or the
// removal of its creator, takes effect at once on every process, and a
// change of the creator's role narrows what the key may do at once; its use
// is recorded in memory and written in batches by KeyUsage.Run.
func (a *Authenticator) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	switch auth.ClassifyBearer(bearer) {
	case auth.BearerAPIKey:
		return a.authenticateKey(ctx, bearer)
	case auth.BearerJWT:
		if resource, ok := ctx.Value(resourceKey{}).(string); ok {
			return a.authenticateDelegated(ctx, bearer, resource)
		}
		c, err := a.deps.cfg.Issuer.Verify(bearer)
		if err != nil {
			return Principal{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
		}
		return Principal{TenantID: c.TenantID, UserID: c.UserID, Role: c.Role}, nil
	default:
		return Principal{}, fmt.Errorf("%w: the bearer token is neither an API key (axt_…) nor an access token (a JWT)", ErrUnauthenticated)
	}
}

// resourceKey keys, in a request's context, the resource (an RFC 8707
// resource URL) the request is for.
type resourceKey struct{}

// ForResource returns ctx for a request to resource (this server's /mcp,
// as its OAuth clients name it): Authenticate then takes, beside API keys
// and the API's access tokens, the delegated access tokens (OAuth) bound to
// resource, and refuses those bound to any other. An empty resource takes
// a delegated token of any resource: only for requests whose token was
// checked at its resource already (the MCP tools' calls to the API, which
// carry the token /mcp took).
func ForResource(ctx context.Context, resource string) context.Context {
	return context.WithValue(ctx, resourceKey{}, resource)
}

// authenticateDelegated checks a JWT at resource: the API's own access
// tokens, or an OAuth client's token bound to resource, whose principal is
// limited to the scopes the user granted. An OAuth token is checked
// against its grant on every call, so that revoking the grant (from the
// dashboard, by a replayed code or a reused refresh token) ends its
// access tokens at once on every process, as revoking a key does.
func (a *Authenticator) authenticateDelegated(ctx context.Context, bearer, resource string) (Principal, error) {
	if c, err := a.deps.cfg.Issuer.Verify(bearer); err == nil {
		return Principal{TenantID: c.TenantID, UserID: c.UserID, Role: c.Role}, nil
	}
	c, err := a.deps.cfg.Issuer.VerifyDelegated(bearer, resource)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w (an OAuth token must be issued for %s)", ErrUnauthenticated, err, resource)
	}
	scopes, err := domain.ParseScopes(strings.Fields(c.Scope))
	if err != nil {
		return Principal{}, fmt.Errorf("%w: the token's scope: %w", ErrUnauthenticated, err)
	}
	inForce, err := a.deps.cfg.Grants.OAuthGrantInForce(ctx, c.GrantID)
	switch {
	case err != nil:
		return Principal{}, err
	case !inForce:
		return Principal{}, fmt.Errorf("%w: the authorization this token was issued under was revoked; sign the client in again", ErrUnauthenticated)
	}
	return Principal{TenantID: c.TenantID, UserID: c.UserID, Role: c.Role, ClientID: c.ClientID, Scopes: scopes}, nil
}

func (a *Authenticator) authenticateKey(ctx context.Context, key string) (Principal, error) {
	prefix, secret, err := auth.ParseAPIKey(key)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	keyID := APIKeyIDFor(prefix)
	var k domain.APIKey
	if err := a.deps.load(ctx, domain.StreamAPIKey, keyID, &k); err != nil {
		return Principal{}, err
	}
	hash, err := hex.DecodeString(k.SecretHash())
	switch {
	case !k.Exists() || err != nil || !auth.CheckAPIKey(hash, secret):
		return Principal{}, fmt.Errorf("%w: unknown API key %s; check that it was copied whole", ErrUnauthenticated, prefix)
	case k.Revoked():
		return Principal{}, fmt.Errorf("%w: API key %s was revoked; create a new one", ErrUnauthenticated, prefix)
	}
	// A key acts for its creator: it stops for good with their
	// membership, and a new role narrows it at once.
	var tenant domain.Tenant
	if err := a.deps.load(ctx, domain.StreamTenant, k.TenantID(), &tenant); err != nil {
		return Principal{}, err
	}
	role, member := tenant.Role(k.CreatedBy())
	switch {
	case !member:
		return Principal{}, fmt.Errorf("%w: API key %s belongs to a user who is no longer a member of its tenant; ask a member for a key", ErrUnauthenticated, prefix)
	case k.CreatedAt().Before(tenant.Joined(k.CreatedBy())):
		// Removal ended the key for good: adding its user again later
		// does not bring it back.
		return Principal{}, fmt.Errorf("%w: API key %s was made before its user was removed from the tenant; create a new one", ErrUnauthenticated, prefix)
	}
	a.usage.record(keyID, a.deps.cfg.NowFunc())
	return Principal{TenantID: k.TenantID(), UserID: k.CreatedBy(), KeyID: keyID, Role: role, Scopes: k.Scopes()}, nil
}

// MemberRole returns userID's role in tenantID now; a user who is not (or
// no longer) a member fails with ErrBadCredentials. The OAuth server asks
// it before each token it issues, so that a removed user's clients stop at
// their next refresh and a new role applies from it.
func (a *Authenticator) MemberRole(ctx context.Context, tenantID, userID string) (domain.Role, error) {
	return a.deps.memberRole(ctx, tenantID, userID)
}
