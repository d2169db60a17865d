package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// AcceptInvitation makes the signed-in user a member of the tenant that
// invited their address, with the invitation's role.
type AcceptInvitation struct {
	By           Principal
	InvitationID string
	Meta         domain.Metadata
}

// Membership is a user's role in a tenant.
type Membership struct {
	UserID   string
	TenantID string
	Role     domain.Role
}

// AcceptInvitationHandler handles AcceptInvitation. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type AcceptInvitationHandler struct{ deps *IdentityDeps }

// Handle appends tenant.invitation_accepted and tenant.member_added to the
// tenant that sent the invitation, in one append. An invitation that is
// not pending for the user's address (another's, expired, answered,
// revoked, unknown) is domain.ErrInvitationNotFound; an API key is
// ErrForbidden. The user then signs in to the tenant (Login.TenantID).
func (h *AcceptInvitationHandler) Handle(ctx context.Context, cmd AcceptInvitation) (Membership, error) {
	var m Membership
	tenantID, err := h.deps.answerInvitation(ctx, cmd.By, cmd.InvitationID, cmd.Meta,
		func(t *domain.Tenant, userID, email string, now time.Time) ([]domain.Payload, error) {
			inv, events, err := t.DecideAcceptInvitation(cmd.InvitationID, userID, email, now)
			m = Membership{UserID: userID, Role: inv.Role}
			return events, err
		})
	if err != nil {
		return Membership{}, err
	}
	m.TenantID = tenantID
	return m, nil
}
