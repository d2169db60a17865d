package api

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/axontask/axontask/domain"
)

// RegisterRequest is the body of POST /v1/auth/register.
type RegisterRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	TenantName string `json:"tenant_name"`
}

// LoginRequest is the body of POST /v1/auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// TenantID chooses a tenant other than the user's own, optionally.
	TenantID string `json:"tenant_id,omitempty"`
}

// RefreshRequest is the body of POST /v1/auth/refresh and /v1/auth/logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Tokens answer register, login and refresh: a user's credentials in one
// tenant. Both tokens are secrets: String and LogValue leave them out.
type Tokens struct {
	// AccessToken is a short-lived bearer credential (a JWT).
	AccessToken string `json:"access_token"`
	// RefreshToken gets the next Tokens from POST /v1/auth/refresh; each
	// works once.
	RefreshToken string `json:"refresh_token"`
	// TokenType is "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime, in seconds (Lifetime).
	ExpiresIn int64 `json:"expires_in"`
	// UserID, TenantID and Role are who signed in, where, as what.
	UserID   string      `json:"user_id"`
	TenantID string      `json:"tenant_id"`
	Role     domain.Role `json:"role"`
}

// Lifetime is ExpiresIn as a duration: how long the access token works
// from when it was issued.
func (t Tokens) Lifetime() time.Duration { return time.Duration(t.ExpiresIn) * time.Second }

// String describes t without its tokens, so that printing or logging it
// leaks nothing.
func (t Tokens) String() string {
	return fmt.Sprintf("{user %s, tenant %s, role %s, expires in %s, tokens redacted}", t.UserID, t.TenantID, t.Role, t.Lifetime())
}

// LogValue logs t as String does (slog.LogValuer).
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// CreateKeyRequest is the body of POST /v1/api-keys.
type CreateKeyRequest struct {
	Name   string         `json:"name"`
	Scopes []domain.Scope `json:"scopes"`
}

// Key describes an API key. String and LogValue leave its plaintext out.
type Key struct {
	ID string `json:"id"`
	// Key is the plaintext (axt_…), there only in the answer of POST
	// /v1/api-keys, once: a secret, to store as one.
	Key  string `json:"key,omitempty"`
	Name string `json:"name"`
	// Prefix is the key's public part (axt_<prefix>_…), to recognize it.
	Prefix string `json:"prefix"`
	// Scopes is never null.
	Scopes []domain.Scope `json:"scopes"`
	// CreatedBy is the id of the user who created it.
	CreatedBy string `json:"created_by"`
	CreatedAt Time   `json:"created_at"`
	// LastUsedAt is null if the key was never used; it is written every
	// 30 s, so it may lag.
	LastUsedAt Time `json:"last_used_at"`
}

// String describes k without its plaintext, so that printing or logging
// it leaks nothing.
func (k Key) String() string {
	return fmt.Sprintf("{API key %s %q, prefix %s, scopes %v, key redacted}", k.ID, k.Name, k.Prefix, k.Scopes)
}

// LogValue logs k as String does (slog.LogValuer).
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// KeyList answers GET /v1/api-keys.
type KeyList struct {
	APIKeys []Key `json:"api_keys"`
}

// InviteRequest is the body of POST /v1/members: an invitation of an email
// address into the tenant with a role.
type InviteRequest struct {
	Email string      `json:"email"`
	Role  domain.Role `json:"role"`
}

// Invitation is a pending invitation: POST /v1/members answers it (202),
// GET /v1/members/invitations lists the tenant's and GET /v1/invitations
// the signed-in user's.
type Invitation struct {
	InvitationID string `json:"invitation_id"`
	TenantID     string `json:"tenant_id"`
	// TenantName is in GET /v1/invitations only: who invites you.
	TenantName string      `json:"tenant_name,omitempty"`
	Email      string      `json:"email"`
	Role       domain.Role `json:"role"`
	// InvitedBy is the user id of who invited.
	InvitedBy string `json:"invited_by"`
	CreatedAt Time   `json:"created_at"`
	ExpiresAt Time   `json:"expires_at"`
}

// InvitationList answers GET /v1/members/invitations and GET
// /v1/invitations: oldest first (the latter by tenant, the most recent
// tenant first).
type InvitationList struct {
	Invitations []Invitation `json:"invitations"`
}

// RoleRequest is the body of PATCH /v1/members/{user_id}.
type RoleRequest struct {
	Role domain.Role `json:"role"`
}

// Membership answers POST /v1/invitations/{id}/accept and PATCH
// /v1/members/{user_id}: a user's role in a tenant.
type Membership struct {
	UserID   string      `json:"user_id"`
	TenantID string      `json:"tenant_id"`
	Role     domain.Role `json:"role"`
}

// Member is one member of a tenant in GET /v1/members.
type Member struct {
	UserID string      `json:"user_id"`
	Email  string      `json:"email"`
	Role   domain.Role `json:"role"`
}

// MemberList answers GET /v1/members.
type MemberList struct {
	Members []Member `json:"members"`
}
