package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// RevokeInvitation withdraws a pending invitation of the principal's
// tenant.
type RevokeInvitation struct {
	By           Principal
	InvitationID string
	Meta         domain.Metadata
}

// RevokeInvitationHandler handles RevokeInvitation. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type RevokeInvitationHandler struct{ deps *IdentityDeps }

// Handle appends tenant.invitation_revoked. The principal must manage
// members; an invitation that is not pending in its tenant (another
// tenant's among them) is domain.ErrInvitationNotFound.
func (h *RevokeInvitationHandler) Handle(ctx context.Context, cmd RevokeInvitation) (struct{}, error) {
	if err := cmd.By.require(domain.ActionManageMembers); err != nil {
		return struct{}{}, err
	}
	now := h.deps.cfg.NowFunc()
	return struct{}{}, h.deps.changeTenant(ctx, cmd.By, cmd.Meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		return t.DecideRevokeInvitation(cmd.InvitationID, cmd.By.UserID, now)
	})
}
