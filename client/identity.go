package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// Tokens are a signed-in user's credentials in one tenant. Keep both
// tokens secret; never log them.
type Tokens struct {
	// AccessToken is a short-lived bearer credential (a JWT): pass it to
	// WithToken.
	AccessToken string
	// RefreshToken gets the next Tokens from Refresh; each works once.
	RefreshToken string
	// TokenType is "Bearer".
	TokenType string
	// ExpiresIn is the access token's lifetime from when it was issued.
	ExpiresIn time.Duration
	// UserID, TenantID and Role are who signed in, where, as what.
	UserID   string
	TenantID string
	Role     domain.Role
}

// String describes t without its tokens, so that printing or logging it
// leaks nothing.
func (t Tokens) String() string {
	return fmt.Sprintf("{user %s, tenant %s, role %s, expires in %s, tokens redacted}", t.UserID, t.TenantID, t.Role, t.ExpiresIn)
}

// LogValue logs t as String does (slog.LogValuer).
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// newTokens is the SDK's form of the answer of register, login and refresh.
func newTokens(t api.Tokens) Tokens {
	return Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType,
		ExpiresIn: time.Duration(t.ExpiresIn) * time.Second, UserID: t.UserID, TenantID: t.TenantID, Role: t.Role}
}

// RegisterRequest describes a new user (Email, case-insensitive; Password,
// 8 to 1024 bytes) and the tenant they will own (TenantName).
type RegisterRequest = api.RegisterRequest

// Register creates a user who owns a new tenant and signs them in (POST
// /v1/auth/register; no credential). A taken address is ErrConflict.
func (c *Client) Register(ctx context.Context, req RegisterRequest) (Tokens, error) {
	return c.tokens(ctx, "/v1/auth/register", req)
}

// LoginRequest describes a sign-in: Email, Password and, when set,
// TenantID, another tenant the user belongs to (default: their own).
type LoginRequest = api.LoginRequest

// Login signs a user in (POST /v1/auth/login; no credential). A wrong
// address, password or tenant is ErrUnauthenticated, alike.
func (c *Client) Login(ctx context.Context, req LoginRequest) (Tokens, error) {
	return c.tokens(ctx, "/v1/auth/login", req)
}

// Refresh trades a refresh token for a new access token and the session's
// next refresh token (POST /v1/auth/refresh; no credential). Presenting a
// refresh token twice revokes the whole session: ErrUnauthenticated.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	return c.tokens(ctx, "/v1/auth/refresh", api.RefreshRequest{RefreshToken: refreshToken})
}

// Logout ends the session of a refresh token (POST /v1/auth/logout; no
// credential): its refresh tokens stop working; access tokens already
// issued work until they expire.
func (c *Client) Logout(ctx context.Context, refreshToken string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/auth/logout", body: api.RefreshRequest{RefreshToken: refreshToken}, anonymous: true}, nil, 0)
}

func (c *Client) tokens(ctx context.Context, path string, body any) (Tokens, error) {
	var out api.Tokens
	if err := c.do(ctx, call{method: http.MethodPost, path: path, body: body, anonymous: true}, &out, 0); err != nil {
		return Tokens{}, err
	}
	return newTokens(out), nil
}

// APIKey describes an API key, without its secret.
type APIKey struct {
	ID   string
	Name string
	// Prefix is the key's public part (axt_<prefix>_…), to recognize it.
	Prefix string
	Scopes []domain.Scope
	// CreatedBy is the id of the user who created it.
	CreatedBy string
	CreatedAt time.Time
	// LastUsedAt is zero if the key was never used; it is written every
	// 30 s, so it may lag.
	LastUsedAt time.Time
}

// NewAPIKey is a key just created: its description and its plaintext.
type NewAPIKey struct {
	APIKey
	// Key is the plaintext (axt_…), shown this once: pass it to WithToken,
	// store it as a secret, never log it.
	Key string
}

// String describes k without its plaintext, so that printing or logging
// it leaks nothing.
func (k NewAPIKey) String() string {
	return fmt.Sprintf("{API key %s %q, prefix %s, scopes %v, key redacted}", k.ID, k.Name, k.Prefix, k.Scopes)
}

// LogValue logs k as String does (slog.LogValuer).
func (k NewAPIKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// newAPIKey is the SDK's form of a key's description.
func newAPIKey(k api.Key) APIKey {
	return APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt.Time, LastUsedAt: k.LastUsedAt.Time}
}

// CreateAPIKey creates an API key in the caller's tenant with the given
// scopes (tasks:read, tasks:write, admin) (POST /v1/api-keys). A key never
// gets more than its creator may do: asking for more is ErrForbidden.
func (c *Client) CreateAPIKey(ctx context.Context, name string, scopes []domain.Scope) (NewAPIKey, error) {
	if scopes == nil {
		scopes = []domain.Scope{}
	}
	var out api.Key
	body := api.CreateKeyRequest{Name: name, Scopes: scopes}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/api-keys", body: body}, &out, 0); err != nil {
		return NewAPIKey{}, err
	}
	return NewAPIKey{APIKey: newAPIKey(out), Key: out.Key}, nil
}

// ListAPIKeys returns the tenant's active keys; a member sees their own only
// (GET /v1/api-keys).
func (c *Client) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	var out api.KeyList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/api-keys"}, &out, 0); err != nil {
		return nil, err
	}
	keys := make([]APIKey, len(out.APIKeys))
	for i, k := range out.APIKeys {
		keys[i] = newAPIKey(k)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key (DELETE /v1/api-keys/{id}), at once on every
// API process. Revoking a revoked key succeeds; another tenant's key is
// ErrNotFound.
func (c *Client) RevokeAPIKey(ctx context.Context, keyID string) error {
	id, err := segment("the key id", keyID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/api-keys/" + id}, nil, 0)
}

// Membership is a user's role in a tenant.
type Membership = api.Membership

// AddMember adds a registered user, by email address, to the caller's
// tenant with role (POST /v1/members; owners and admins). An unknown
// address is ErrNotFound, a member already ErrConflict.
func (c *Client) AddMember(ctx context.Context, email string, role domain.Role) (Membership, error) {
	var out Membership
	body := api.AddMemberRequest{Email: email, Role: role}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/members", body: body}, &out, 0); err != nil {
		return Membership{}, err
	}
	return out, nil
}

// Member is one member of a tenant.
type Member = api.Member

// ListMembers returns the caller's tenant's members (GET /v1/members).
func (c *Client) ListMembers(ctx context.Context) ([]Member, error) {
	var out api.MemberList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/members"}, &out, 0); err != nil {
		return nil, err
	}
	return out.Members, nil
}

// ChangeMemberRole changes a member's role (PATCH /v1/members/{user_id};
// owners and admins; only owners make or unmake owners). Demoting the last
// owner is ErrConflict. It takes effect at the member's next refresh.
func (c *Client) ChangeMemberRole(ctx context.Context, userID string, role domain.Role) (Membership, error) {
	id, err := segment("the user id", userID)
	if err != nil {
		return Membership{}, err
	}
	var out Membership
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/members/" + id, body: api.RoleRequest{Role: role}}, &out, 0); err != nil {
		return Membership{}, err
	}
	return out, nil
}

// RemoveMember removes a member from the caller's tenant (DELETE
// /v1/members/{user_id}). Their access tokens work until they expire;
// API keys they made stay until revoked.
func (c *Client) RemoveMember(ctx context.Context, userID string) error {
	id, err := segment("the user id", userID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/members/" + id}, nil, 0)
}

// Health reports whether the API process is up (GET /healthz; no
// credential): nil when it answers 2xx.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodGet, path: "/healthz", anonymous: true}, nil, 0)
}

// Readiness is the answer of a ready API process.
type Readiness struct {
	// Status is "ready".
	Status string `json:"status"`
	// FeedHead is the event store's last feed position.
	FeedHead int64 `json:"feed_head"`
}

// Ready reports whether the API process's event store answers (GET
// /readyz; no credential); an *APIError with status 503 when it does not.
func (c *Client) Ready(ctx context.Context) (Readiness, error) {
	var out Readiness
	if err := c.do(ctx, call{method: http.MethodGet, path: "/readyz", anonymous: true}, &out, 0); err != nil {
		return Readiness{}, err
	}
	return out, nil
}
