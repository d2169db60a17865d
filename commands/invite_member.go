package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// InviteMember invites an email address into the principal's tenant with
// a role. Its user becomes a member when they accept (AcceptInvitation).
type InviteMember struct {
	By    Principal
	Email string
	Role  string
	Meta  domain.Metadata
}

// InviteMemberHandler handles InviteMember. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type InviteMemberHandler struct{ deps *IdentityDeps }

// Handle validates cmd, appends tenant.member_invited to the tenant and
// points the address's inbox at it (inbox.invitation_received). It does
// the same whether or not a user registered the address, so that its
// answer tells nothing about who is registered: an address registered
// later sees the invitation too. An invitation of the address that is
// pending already is answered as it is. The principal must manage members
// and may not invite an owner unless it is an owner. A member already is
// domain.ErrAlreadyMember; past domain.MaxPendingInvitationsPerTenant
// pending invitations, domain.ErrTooManyInvitations. No email is sent: the
// invitee finds the invitation with ListMyInvitations.
func (h *InviteMemberHandler) Handle(ctx context.Context, cmd InviteMember) (InvitationInfo, error) {
	if err := cmd.By.require(domain.ActionManageMembers); err != nil {
		return InvitationInfo{}, err
	}
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		return InvitationInfo{}, err
	}
	role, err := domain.ParseRole(cmd.Role)
	if err != nil {
		return InvitationInfo{}, err
	}
	if role == domain.RoleOwner && !cmd.By.isOwner() {
		return InvitationInfo{}, fmt.Errorf("%w: only an owner may invite an owner", ErrForbidden)
	}
	newID, err := uuid.NewV7()
	if err != nil {
		return InvitationInfo{}, fmt.Errorf("new invitation id: %w", err)
	}
	now := h.deps.cfg.NowFunc()
	var inv domain.Invitation
	err = h.deps.changeTenant(ctx, cmd.By, cmd.Meta, func(t *domain.Tenant) (events []domain.Payload, err error) {
		inv, events, err = t.DecideInvite(newID.String(), email, UserIDFor(email), role, cmd.By.UserID, now, h.deps.cfg.InvitationTTL)
		return events, err
	})
	if err != nil {
		return InvitationInfo{}, err
	}
	// After the tenant's event: a failure here leaves the invitation
	// pending but not yet in the inbox, and inviting again puts it there.
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	var inbox domain.Inbox
	if _, err := Update(ctx, h.deps.w, Target{Stream: inboxStream(email), Meta: meta}, &inbox, func(b *domain.Inbox) ([]domain.Payload, error) {
		return b.DecideReceive(inv.ID, cmd.By.TenantID), nil
	}); err != nil {
		return InvitationInfo{}, fmt.Errorf("deliver invitation %s: %w", inv.ID, err)
	}
	return InvitationInfo{Invitation: inv, TenantID: cmd.By.TenantID}, nil
}
