package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// RemoveMember removes a member from the principal's tenant.
type RemoveMember struct {
	By     Principal
	UserID string
	Meta   domain.Metadata
}

// RemoveMemberHandler handles RemoveMember. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type RemoveMemberHandler struct{ deps *IdentityDeps }

// Handle appends tenant.member_removed. The principal must manage members;
// only an owner removes an owner; the last owner stays
// (domain.ErrLastOwner). The member's access tokens work until they
// expire; refreshing them fails, and their API keys stop at once.
func (h *RemoveMemberHandler) Handle(ctx context.Context, cmd RemoveMember) (struct{}, error) {
	by := cmd.By
	if err := by.require(domain.ActionManageMembers); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, h.deps.changeTenant(ctx, by, cmd.Meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		if old, _ := t.Role(cmd.UserID); old == domain.RoleOwner && !by.isOwner() {
			return nil, fmt.Errorf("%w: only an owner may remove an owner", ErrForbidden)
		}
		return t.DecideRemoveMember(cmd.UserID)
	})
}
