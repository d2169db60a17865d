package client

import (
	"context"
	"net/http"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// Register creates a user (req.Email, case-insensitive; req.Password, 8
// to 1024 bytes) who owns a new tenant (req.TenantName) and signs them in
// (POST /v1/auth/register; no credential). A taken address is
// ErrConflict. Pass the answer's AccessToken to WithToken.
func (c *Client) Register(ctx context.Context, req api.RegisterRequest) (api.Tokens, error) {
	return c.tokens(ctx, "/v1/auth/register", req)
}

// Login signs a user in (POST /v1/auth/login; no credential) with
// req.Email and req.Password, in req.TenantID when set: another tenant the
// user belongs to (default: their own). A wrong address, password or
// tenant is ErrUnauthenticated, alike.
func (c *Client) Login(ctx context.Context, req api.LoginRequest) (api.Tokens, error) {
	return c.tokens(ctx, "/v1/auth/login", req)
}

// Refresh trades a refresh token for a new access token and the session's
// next refresh token (POST /v1/auth/refresh; no credential). Presenting a
// refresh token twice revokes the whole session: ErrUnauthenticated.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (api.Tokens, error) {
	return c.tokens(ctx, "/v1/auth/refresh", api.RefreshRequest{RefreshToken: refreshToken})
}

// Logout ends the session of a refresh token (POST /v1/auth/logout; no
// credential): its refresh tokens stop working; access tokens already
// issued work until they expire.
func (c *Client) Logout(ctx context.Context, refreshToken string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/auth/logout", body: api.RefreshRequest{RefreshToken: refreshToken}, anonymous: true}, nil, 0)
}

func (c *Client) tokens(ctx context.Context, path string, body any) (api.Tokens, error) {
	var out api.Tokens
	if err := c.do(ctx, call{method: http.MethodPost, path: path, body: body, anonymous: true}, &out, 0); err != nil {
		return api.Tokens{}, err
	}
	return out, nil
}

// CreateAPIKey creates an API key in the caller's tenant with the given
// scopes (tasks:read, tasks:write, admin) (POST /v1/api-keys). The
// answer's Key is the plaintext (axt_…), shown this once: pass it to
// WithToken and store it as a secret. A key never gets more than its
// creator may do: asking for more is ErrForbidden.
func (c *Client) CreateAPIKey(ctx context.Context, name string, scopes []domain.Scope) (api.Key, error) {
	if scopes == nil {
		scopes = []domain.Scope{}
	}
	var out api.Key
	body := api.CreateKeyRequest{Name: name, Scopes: scopes}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/api-keys", body: body}, &out, 0); err != nil {
		return api.Key{}, err
	}
	return out, nil
}

// ListAPIKeys returns the tenant's active keys, without their plaintext; a
// member sees their own only (GET /v1/api-keys).
func (c *Client) ListAPIKeys(ctx context.Context) ([]api.Key, error) {
	var out api.KeyList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/api-keys"}, &out, 0); err != nil {
		return nil, err
	}
	return out.APIKeys, nil
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

// InviteMember invites an email address into the caller's tenant with
// role (POST /v1/members; owners and admins; only owners invite owners).
// The address's user becomes a member when they accept
// (AcceptInvitation) within 7 days. The answer is the same whether or not
// the address is registered; no email is sent. A member already is
// ErrConflict; an address with a pending invitation gets that one back.
func (c *Client) InviteMember(ctx context.Context, email string, role domain.Role) (api.Invitation, error) {
	var out api.Invitation
	body := api.InviteRequest{Email: email, Role: role}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/members", body: body}, &out, 0); err != nil {
		return api.Invitation{}, err
	}
	return out, nil
}

// TenantInvitations returns the caller's tenant's pending invitations,
// oldest first (GET /v1/members/invitations; owners and admins).
func (c *Client) TenantInvitations(ctx context.Context) ([]api.Invitation, error) {
	return c.invitations(ctx, "/v1/members/invitations")
}

// RevokeInvitation withdraws a pending invitation of the caller's tenant
// (DELETE /v1/members/invitations/{id}; owners and admins). One that is
// not pending is ErrNotFound.
func (c *Client) RevokeInvitation(ctx context.Context, invitationID string) error {
	id, err := segment("the invitation id", invitationID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/members/invitations/" + id}, nil, 0)
}

// MyInvitations returns the invitations pending for the signed-in user's
// email address, from every tenant (GET /v1/invitations). It needs a
// user's access token (Login), not an API key (ErrForbidden).
func (c *Client) MyInvitations(ctx context.Context) ([]api.Invitation, error) {
	return c.invitations(ctx, "/v1/invitations")
}

// AcceptInvitation makes the signed-in user a member of the tenant that
// invited them (POST /v1/invitations/{id}/accept); sign in to it with
// Login's tenant id. An invitation not pending for the user's address is
// ErrNotFound.
func (c *Client) AcceptInvitation(ctx context.Context, invitationID string) (api.Membership, error) {
	id, err := segment("the invitation id", invitationID)
	if err != nil {
		return api.Membership{}, err
	}
	var out api.Membership
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/invitations/" + id + "/accept"}, &out, 0); err != nil {
		return api.Membership{}, err
	}
	return out, nil
}

// DeclineInvitation turns down an invitation of the signed-in user
// (POST /v1/invitations/{id}/decline); errors as AcceptInvitation's.
func (c *Client) DeclineInvitation(ctx context.Context, invitationID string) error {
	id, err := segment("the invitation id", invitationID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/invitations/" + id + "/decline"}, nil, 0)
}

// invitations GETs a list of invitations at path.
func (c *Client) invitations(ctx context.Context, path string) ([]api.Invitation, error) {
	var out api.InvitationList
	if err := c.do(ctx, call{method: http.MethodGet, path: path}, &out, 0); err != nil {
		return nil, err
	}
	return out.Invitations, nil
}

// ListMembers returns the caller's tenant's members (GET /v1/members).
func (c *Client) ListMembers(ctx context.Context) ([]api.Member, error) {
	var out api.MemberList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/members"}, &out, 0); err != nil {
		return nil, err
	}
	return out.Members, nil
}

// ChangeMemberRole changes a member's role (PATCH /v1/members/{user_id};
// owners and admins; only owners make or unmake owners). Demoting the last
// owner is ErrConflict. It takes effect at the member's next refresh.
func (c *Client) ChangeMemberRole(ctx context.Context, userID string, role domain.Role) (api.Membership, error) {
	id, err := segment("the user id", userID)
	if err != nil {
		return api.Membership{}, err
	}
	var out api.Membership
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/members/" + id, body: api.RoleRequest{Role: role}}, &out, 0); err != nil {
		return api.Membership{}, err
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
