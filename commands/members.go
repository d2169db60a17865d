package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// AddMember adds a registered user to the principal's tenant with a role.
type AddMember struct {
	By    Principal
	Email string
	Role  string
	Meta  domain.Metadata
}

// AddMember validates cmd and appends tenant.member_added. The principal
// must manage members and may not grant owner unless it is an owner.
// Unknown addresses are ErrUserNotFound; members already in are
// domain.ErrAlreadyMember.
func (id *Identity) AddMember(ctx context.Context, cmd AddMember) (userID string, err error) {
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
	if role == domain.RoleOwner && cmd.By.Role != domain.RoleOwner {
		return "", fmt.Errorf("%w: only an owner may make someone owner", ErrForbidden)
	}
	userID = UserIDFor(email)
	var user domain.User
	if err := loadStream(ctx, id.cfg.Store, userID, &user); err != nil {
		return "", err
	}
	if !user.Exists() {
		return "", ErrUserNotFound
	}
	for range 3 {
		var tenant domain.Tenant
		if err := loadStream(ctx, id.cfg.Store, cmd.By.TenantID, &tenant); err != nil {
			return "", err
		}
		if !tenant.Exists() {
			return "", fmt.Errorf("add member: tenant %s does not exist", cmd.By.TenantID)
		}
		added, err := tenant.DecideAddMember(userID, role)
		if err != nil {
			return "", err
		}
		meta := cmd.Meta
		meta.Actor = cmd.By.Actor()
		stream := eventstore.Stream{ID: cmd.By.TenantID, Type: domain.StreamTenant, TenantID: cmd.By.TenantID}
		err = id.appendOne(ctx, stream, tenant.Seq(), domain.TenantMemberAddedType, added, meta)
		if !errors.Is(err, eventstore.ErrConflict) {
			return userID, err
		}
	}
	return "", fmt.Errorf("add member: the tenant kept changing; try again: %w", eventstore.ErrConflict)
}
