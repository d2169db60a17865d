package commands

import (
	"context"
	"time"

	"github.com/axontask/axontask/domain"
)

// ListInvitations asks for the pending invitations of the principal's
// tenant. It is a query: it appends nothing.
type ListInvitations struct {
	By Principal
}

// ListInvitationsHandler answers ListInvitations. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type ListInvitationsHandler struct{ deps *IdentityDeps }

// Handle returns the tenant's pending invitations, oldest first. The
// principal must manage members (they hold addresses of non-members).
func (h *ListInvitationsHandler) Handle(ctx context.Context, q ListInvitations) ([]InvitationInfo, error) {
	if err := q.By.require(domain.ActionManageMembers); err != nil {
		return nil, err
	}
	var tenant domain.Tenant
	if err := h.deps.load(ctx, domain.StreamTenant, q.By.TenantID, &tenant); err != nil {
		return nil, err
	}
	return infos(&tenant, q.By.TenantID, "", h.deps.cfg.NowFunc()), nil
}

// infos returns tenant's invitations pending at now for email ("" for
// all) as InvitationInfos; never nil.
func infos(tenant *domain.Tenant, tenantID, email string, now time.Time) []InvitationInfo {
	pending := tenant.Invitations(email, now)
	out := make([]InvitationInfo, len(pending))
	for i, inv := range pending {
		out[i] = InvitationInfo{Invitation: inv, TenantID: tenantID, TenantName: tenant.Name()}
	}
	return out
}
