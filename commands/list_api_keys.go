package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
)

// ListAPIKeys asks for the active API keys of the principal's tenant that
// it may see. It is a query: it appends nothing.
type ListAPIKeys struct {
	By Principal
}

// ListAPIKeysHandler answers ListAPIKeys. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type ListAPIKeysHandler struct {
	deps  *IdentityDeps
	usage *KeyUsage
}

// Handle returns the active API keys of the principal's tenant that it may
// see (all of them with manage_keys, its user's own otherwise), oldest id
// first, each with its last use, written or not yet.
func (h *ListAPIKeysHandler) Handle(ctx context.Context, q ListAPIKeys) ([]APIKeyInfo, error) {
	by := q.By
	if err := by.require(domain.ActionManageOwnKeys); err != nil {
		return nil, err
	}
	keys, err := h.deps.activeAPIKeys(ctx, by.TenantID, MaxAPIKeysPerTenant)
	if err != nil {
		return nil, err
	}
	out := make([]APIKeyInfo, 0, len(keys))
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		if by.Can(domain.ActionManageKeys) || k.CreatedBy == by.UserID {
			out = append(out, k)
			ids = append(ids, k.ID)
		}
	}
	used, err := h.usage.lastUsed(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].LastUsedAt = used[out[i].ID]
	}
	return out, nil
}
