package commands

import (
	"context"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ListSecrets asks for the secrets of the principal's tenant. It is a
// query: it appends nothing.
type ListSecrets struct {
	By Principal
}

// ListSecretsHandler answers ListSecrets. Build it with NewSecretHandlers;
// it is safe for concurrent use.
type ListSecretsHandler struct{ d *secretDeps }

// Handle returns the tenant's secrets by name, with their times and never
// their values.
func (h *ListSecretsHandler) Handle(ctx context.Context, q ListSecrets) ([]eventstore.SecretInfo, error) {
	if err := q.By.require(domain.ActionManageSecrets); err != nil {
		return nil, err
	}
	return h.d.cfg.Vault.List(ctx, q.By.TenantID)
}
