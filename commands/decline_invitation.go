package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// DeclineInvitation turns down an invitation of the signed-in user's
// address.
type DeclineInvitation struct {
	By           Principal
	InvitationID string
	Meta         domain.Metadata
}

// DeclineInvitationHandler handles DeclineInvitation. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type DeclineInvitationHandler struct{ deps *IdentityDeps }

// Handle appends tenant.invitation_declined to the tenant that sent the
// invitation. Errors are AcceptInvitation's.
func (h *DeclineInvitationHandler) Handle(ctx context.Context, cmd DeclineInvitation) (struct{}, error) {
	_, err := h.deps.answerInvitation(ctx, cmd.By, cmd.InvitationID, cmd.Meta,
		func(t *domain.Tenant, userID, email string, now time.Time) ([]domain.Payload, error) {
			return t.DecideDeclineInvitation(cmd.InvitationID, userID, email, now)
		})
	return struct{}{}, err
}
