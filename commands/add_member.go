package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// AddMember adds a registered user to the principal's tenant with a role.
type AddMember struct {
	By    Principal
	Email string
	Role  string
	Meta  domain.Metadata
}

// AddMemberHandler handles AddMember; its result is the added user's id.
// Build it with NewIdentityHandlers; it is safe for concurrent use.
type AddMemberHandler struct{ deps *IdentityDeps }

// Handle validates cmd and appends tenant.member_added. The principal must
// manage members and may not grant owner unless it is an owner. Unknown
// addresses are ErrUserNotFound; members already in are
// domain.ErrAlreadyMember.
func (h *AddMemberHandler) Handle(ctx context.Context, cmd AddMember) (userID string, err error) {
	if err := cmd.By.require(domain.ActionManageMembers); err != nil {
		return "", err
	}
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		return "", err
	}
	role, err := domain.ParseRole(cmd.Role)
	if err != nil {
		return "", err
	}
	if role == domain.RoleOwner && !cmd.By.isOwner() {
		return "", fmt.Errorf("%w: only an owner may make someone owner", ErrForbidden)
	}
	userID = UserIDFor(email)
	var user domain.User
	if err := h.deps.load(ctx, domain.StreamUser, userID, &user); err != nil {
		return "", err
	}
	if !user.Exists() {
		return "", ErrUserNotFound
	}
	err = h.deps.changeTenant(ctx, cmd.By, cmd.Meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		return t.DecideAddMember(userID, role)
	})
	if err != nil {
		return "", err
	}
	return userID, nil
}
