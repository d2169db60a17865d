package api

import "github.com/axontask/axontask/domain"

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
// tenant. Both tokens are secrets.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// TokenType is "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime, in seconds.
	ExpiresIn int64       `json:"expires_in"`
	UserID    string      `json:"user_id"`
	TenantID  string      `json:"tenant_id"`
	Role      domain.Role `json:"role"`
}

// CreateKeyRequest is the body of POST /v1/api-keys.
type CreateKeyRequest struct {
	Name   string         `json:"name"`
	Scopes []domain.Scope `json:"scopes"`
}

// Key describes an API key. Key, the plaintext, is there only in the
// answer of POST /v1/api-keys, once.
type Key struct {
	ID     string `json:"id"`
	Key    string `json:"key,omitempty"`
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
	// Scopes is never null.
	Scopes []domain.Scope `json:"scopes"`
	// CreatedBy is the id of the user who created it.
	CreatedBy string `json:"created_by"`
	CreatedAt Time   `json:"created_at"`
	// LastUsedAt is null if the key was never used; it may lag.
	LastUsedAt Time `json:"last_used_at"`
}

// KeyList answers GET /v1/api-keys.
type KeyList struct {
	APIKeys []Key `json:"api_keys"`
}

// AddMemberRequest is the body of POST /v1/members.
type AddMemberRequest struct {
	Email string      `json:"email"`
	Role  domain.Role `json:"role"`
}

// RoleRequest is the body of PATCH /v1/members/{user_id}.
type RoleRequest struct {
	Role domain.Role `json:"role"`
}

// Membership answers POST /v1/members and PATCH /v1/members/{user_id}: a
// user's role in a tenant.
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
