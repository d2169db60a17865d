package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// ChangeMemberRole gives a member of the principal's tenant another role.
type ChangeMemberRole struct {
	By     Principal
	UserID string
	Role   string
	Meta   domain.Metadata
}

// ChangeMemberRoleHandler handles ChangeMemberRole. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type ChangeMemberRoleHandler struct{ deps *IdentityDeps }

// Handle appends tenant.member_role_changed. The principal must manage
// members; only an owner makes or unmakes owners; the last owner stays one
// (domain.ErrLastOwner). A user who is not a member is domain.ErrNotMember.
func (h *ChangeMemberRoleHandler) Handle(ctx context.Context, cmd ChangeMemberRole) (struct{}, error) {
	by := cmd.By
	if err := by.require(domain.ActionManageMembers); err != nil {
		return struct{}{}, err
	}
	r, err := domain.ParseRole(cmd.Role)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, h.deps.changeTenant(ctx, by, cmd.Meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		if old, _ := t.Role(cmd.UserID); (old == domain.RoleOwner || r == domain.RoleOwner) && !by.isOwner() {
			return nil, fmt.Errorf("%w: only an owner may make or unmake owners", ErrForbidden)
		}
		return t.DecideChangeRole(cmd.UserID, r)
	})
}
