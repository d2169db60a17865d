package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// ListMyInvitations asks for the invitations pending for the signed-in
// user's email address, from every tenant. It is a query: it appends
// nothing.
type ListMyInvitations struct {
	By Principal
}

// ListMyInvitationsHandler answers ListMyInvitations. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type ListMyInvitationsHandler struct{ deps *IdentityDeps }

// Handle returns the invitations pending for the user's address, from the
// MaxInvitingTenantsListed tenants that invited it last, most recent
// tenant first. The principal must be a signed-in user, not an API key
// (ErrForbidden).
func (h *ListMyInvitationsHandler) Handle(ctx context.Context, q ListMyInvitations) ([]InvitationInfo, error) {
	_, email, err := h.deps.invitee(ctx, q.By)
	if err != nil {
		return nil, err
	}
	var inbox domain.Inbox
	if err := Load(ctx, h.deps.w.Store, inboxStream(email), &inbox); err != nil {
		return nil, err
	}
	now := h.deps.cfg.NowFunc()
	out := []InvitationInfo{}
	for _, tenantID := range inbox.Tenants(MaxInvitingTenantsListed) {
		var tenant domain.Tenant
		if err := h.deps.load(ctx, domain.StreamTenant, tenantID, &tenant); err != nil {
			return nil, err
		}
		out = append(out, infos(&tenant, tenantID, email, now)...)
	}
	return out, nil
}
