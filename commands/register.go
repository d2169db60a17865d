package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// Register creates a user and their tenant, in which they are the owner.
type Register struct {
	Email      string
	Password   string
	TenantName string
	Meta       domain.Metadata
}

// RegisterHandler handles Register. Build it with NewIdentityHandlers; it
// is safe for concurrent use.
type RegisterHandler struct{ deps *IdentityDeps }

// Handle validates cmd, appends tenant.created to a new tenant stream and
// user.registered to the user's stream, and signs the user in. An address
// already registered fails with ErrEmailTaken; invalid input with a
// *domain.ValidationError or an *auth.InputError (password). If two
// registrations of one address race, one wins; the loser's tenant stays
// empty of users and is never reachable.
func (h *RegisterHandler) Handle(ctx context.Context, cmd Register) (Tokens, error) {
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		return Tokens{}, err
	}
	if err := domain.ValidateDisplayName("tenant_name", cmd.TenantName, domain.MaxTenantNameLen); err != nil {
		return Tokens{}, err
	}
	userID := UserIDFor(email)
	var user domain.User
	if err := h.deps.load(ctx, domain.StreamUser, userID, &user); err != nil {
		return Tokens{}, err
	}
	if user.Exists() {
		return Tokens{}, ErrEmailTaken
	}
	hash, err := h.deps.hashPassword(ctx, cmd.Password)
	if err != nil {
		return Tokens{}, err
	}
	tenantUUID, err := uuid.NewV7()
	if err != nil {
		return Tokens{}, fmt.Errorf("new tenant id: %w", err)
	}
	tenantID := tenantUUID.String()
	meta := cmd.Meta
	meta.Actor = "user:" + userID
	tenantStream := eventstore.Stream{ID: tenantID, Type: domain.StreamTenant, TenantID: tenantID}
	if err := h.deps.appendOne(ctx, tenantStream, 0, &domain.TenantCreated{Name: cmd.TenantName, OwnerID: userID}, meta); err != nil {
		return Tokens{}, fmt.Errorf("register: %w", err)
	}
	userStream := eventstore.Stream{ID: userID, Type: domain.StreamUser, TenantID: tenantID}
	err = h.deps.appendOne(ctx, userStream, 0, &domain.UserRegistered{Email: email, HomeTenantID: tenantID, PasswordHash: hash}, meta)
	if errors.Is(err, eventstore.ErrConflict) {
		return Tokens{}, ErrEmailTaken
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("register: %w", err)
	}
	return h.deps.startSession(ctx, userID, tenantID, domain.RoleOwner, meta)
}
