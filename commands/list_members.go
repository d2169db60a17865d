package commands

import (
	"context"
	"maps"
	"slices"

	"github.com/axontask/axontask/domain"
)

// ListMembers asks for the members of the principal's tenant. It is a
// query: it appends nothing.
type ListMembers struct {
	By Principal
}

// Member is a tenant member as listed.
type Member struct {
	UserID string
	Email  string
	Role   domain.Role
}

// ListMembersHandler answers ListMembers. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type ListMembersHandler struct{ deps *IdentityDeps }

// Handle returns the members of the principal's tenant, by user id. Anyone
// who may read the tenant's tasks may list them.
func (h *ListMembersHandler) Handle(ctx context.Context, q ListMembers) ([]Member, error) {
	if err := q.By.require(domain.ActionReadTasks); err != nil {
		return nil, err
	}
	var tenant domain.Tenant
	if err := h.deps.load(ctx, domain.StreamTenant, q.By.TenantID, &tenant); err != nil {
		return nil, err
	}
	members := tenant.Members()
	out := make([]Member, 0, len(members))
	for _, userID := range slices.Sorted(maps.Keys(members)) {
		var u domain.User
		if err := h.deps.load(ctx, domain.StreamUser, userID, &u); err != nil {
			return nil, err
		}
		out = append(out, Member{UserID: userID, Email: u.Email(), Role: members[userID]})
	}
	return out, nil
}
