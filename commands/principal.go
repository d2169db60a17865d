package commands

import (
	"fmt"

	"github.com/axontask/axontask/domain"
)

// Principal is who makes a request: a user through an access token, or an
// API key. It is the only input that authorizes a command.
type Principal struct {
	// TenantID is the tenant the request acts in.
	TenantID string
	// UserID is the user (for a key: the user who created it).
	UserID string
	// KeyID is the API key's id; empty for an access token.
	KeyID string
	// Role is the user's role: when the access token was issued, or for a
	// key its creator's role now.
	Role domain.Role
	// ClientID is the OAuth client a delegated access token was issued
	// to; empty otherwise.
	ClientID string
	// Scopes are the API key's scopes, or those the user granted the OAuth
	// client; nil for an access token of the API.
	Scopes domain.Scopes
}

// scoped reports whether the principal's scopes bound it (an API key or an
// OAuth client).
func (p Principal) scoped() bool { return p.KeyID != "" || p.ClientID != "" }

// Can reports whether the principal may take action a in its tenant. A key
// may do what its scopes allow and its creator may still do.
func (p Principal) Can(a domain.Action) bool {
	if p.scoped() {
		return p.Scopes.Can(a) && p.Role.Can(a)
	}
	return p.Role.Can(a)
}

// canGrant reports whether the principal may create a key with scope s: a
// key never gets more than its creator could do.
func (p Principal) canGrant(s domain.Scope) bool {
	if p.scoped() {
		return p.Scopes.Has(domain.ScopeAdmin) && p.Role.CanGrant(s)
	}
	return p.Role.CanGrant(s)
}

// Actor names the principal in events' metadata: "user:<id>" or "api_key:<id>".
func (p Principal) Actor() string {
	if p.KeyID != "" {
		return "api_key:" + p.KeyID
	}
	return "user:" + p.UserID
}

// require fails with ErrForbidden unless p may take action a.
func (p Principal) require(a domain.Action) error {
	if !p.Can(a) {
		return fmt.Errorf("%w: %s may not %s; ask an owner or admin of the tenant", ErrForbidden, p.describe(), a)
	}
	return nil
}

func (p Principal) describe() string {
	if p.KeyID != "" {
		return "an API key with scopes [" + p.Scopes.String() + "] of a user with role " + string(p.Role)
	}
	return "a user with role " + string(p.Role)
}

// isOwner reports whether p is an owner signed in (keys are never owners):
// only owners make, unmake or remove owners.
func (p Principal) isOwner() bool { return p.KeyID == "" && p.Role == domain.RoleOwner }
