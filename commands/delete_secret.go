package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// DeleteSecret deletes a secret of the principal's tenant.
type DeleteSecret struct {
	By   Principal
	Name string
	Meta domain.Metadata
}

// DeleteSecretHandler handles DeleteSecret. Build it with
// NewSecretHandlers; it is safe for concurrent use.
type DeleteSecretHandler struct{ d *secretDeps }

// Handle deletes the value, then appends secret.deleted. A name the
// tenant has no secret of is domain.ErrSecretNotFound. Tasks that refer to
// the secret and start afterwards fail, saying which secret is missing.
func (h *DeleteSecretHandler) Handle(ctx context.Context, cmd DeleteSecret) (struct{}, error) {
	if err := cmd.By.require(domain.ActionManageSecrets); err != nil {
		return struct{}{}, err
	}
	if !domain.ValidSecretName(cmd.Name) {
		return struct{}{}, domain.ErrSecretNotFound
	}
	deleted, err := h.d.cfg.Vault.Delete(ctx, cmd.By.TenantID, cmd.Name)
	if err != nil {
		return struct{}{}, fmt.Errorf("delete secret %s: %w", cmd.Name, err)
	}
	err = h.d.record(ctx, cmd.By, cmd.Name, cmd.Meta, func(s *domain.Secret) ([]domain.Payload, error) {
		return s.DecideDelete(cmd.Name, cmd.By.UserID)
	})
	switch {
	case errors.Is(err, domain.ErrSecretNotFound) && deleted:
		// A value whose creation was never recorded: it is gone now.
		return struct{}{}, nil
	case err != nil:
		return struct{}{}, err
	}
	return struct{}{}, nil
}
