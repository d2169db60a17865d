package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// Login signs a user in with their password.
type Login struct {
	Email    string
	Password string
	// TenantID chooses the tenant to act in; empty: the user's home tenant.
	TenantID string
	Meta     domain.Metadata
}

// LoginHandler handles Login. Build it with NewIdentityHandlers; it is
// safe for concurrent use.
type LoginHandler struct{ deps *IdentityDeps }

// Handle checks cmd's password and starts a session in the tenant asked
// for. A wrong address, a wrong password and a tenant the user is not a
// member of all fail with ErrBadCredentials, in about the same time. A
// password hashed with weaker parameters than auth.DefaultParams is hashed
// again and stored.
func (h *LoginHandler) Handle(ctx context.Context, cmd Login) (Tokens, error) {
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		return Tokens{}, err
	}
	if cmd.TenantID != "" {
		if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
			return Tokens{}, err
		}
	}
	userID := UserIDFor(email)
	var user domain.User
	if err := h.deps.load(ctx, domain.StreamUser, userID, &user); err != nil {
		return Tokens{}, err
	}
	stored := user.PasswordHash()
	if !user.Exists() {
		stored = h.deps.dummyHash
	}
	ok, rehash, err := h.deps.verifyPassword(ctx, stored, cmd.Password)
	if err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	if !ok || !user.Exists() {
		return Tokens{}, ErrBadCredentials
	}
	tenantID := cmd.TenantID
	if tenantID == "" {
		tenantID = user.HomeTenantID()
	}
	role, err := h.deps.memberRole(ctx, tenantID, userID)
	if err != nil {
		return Tokens{}, err
	}
	meta := cmd.Meta
	meta.Actor = "user:" + userID
	if rehash {
		h.rehash(ctx, &user, userID, cmd.Password, meta)
	}
	return h.deps.startSession(ctx, userID, tenantID, role, meta)
}

// rehash stores the password hashed with the current parameters. A failure
// only costs a rehash at the next login, so it is logged, not returned.
func (h *LoginHandler) rehash(ctx context.Context, user *domain.User, userID, password string, meta domain.Metadata) {
	hash, err := h.deps.hashPassword(ctx, password)
	if err == nil {
		stream := eventstore.Stream{ID: userID, Type: domain.StreamUser, TenantID: user.HomeTenantID()}
		err = h.deps.appendOne(ctx, stream, user.Seq(), &domain.UserPasswordChanged{PasswordHash: hash}, meta)
	}
	if err != nil {
		h.deps.cfg.Logger.WarnContext(ctx, "identity: could not store a stronger password hash", "user_id", userID, "err", err)
	}
}
