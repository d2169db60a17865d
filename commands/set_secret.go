package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// SetSecret creates a secret in the principal's tenant, or replaces the
// value of the one of that name (a rotation). Value never leaves the
// vault again: no answer, event or log holds it.
type SetSecret struct {
	By    Principal
	Name  string
	Value []byte
	Meta  domain.Metadata
}

// String describes the command without its value (handlers' decorators
// and logs print commands).
func (c SetSecret) String() string { return fmt.Sprintf("SetSecret{%s, value redacted}", c.Name) }

// SetSecretHandler handles SetSecret. Build it with NewSecretHandlers; it
// is safe for concurrent use.
type SetSecretHandler struct{ d *secretDeps }

// Handle checks the name and value (domain.ValidateSecret), stores the
// value sealed, then appends secret.created or secret.rotated to the
// secret's stream. The principal must manage secrets (ErrForbidden); a
// tenant with domain.MaxSecretsPerTenant secrets gets no new one
// (ErrTooManySecrets).
func (h *SetSecretHandler) Handle(ctx context.Context, cmd SetSecret) (SecretResult, error) {
	if err := cmd.By.require(domain.ActionManageSecrets); err != nil {
		return SecretResult{}, err
	}
	if err := domain.ValidateSecret(cmd.Name, cmd.Value); err != nil {
		return SecretResult{}, err
	}
	_, exists, list, err := h.d.find(ctx, cmd.By.TenantID, cmd.Name)
	if err != nil {
		return SecretResult{}, err
	}
	if !exists && len(list) >= domain.MaxSecretsPerTenant {
		return SecretResult{}, ErrTooManySecrets
	}
	if _, err := h.d.cfg.Vault.Set(ctx, cmd.By.TenantID, cmd.Name, cmd.Value); err != nil {
		return SecretResult{}, fmt.Errorf("set secret %s: %w", cmd.Name, err)
	}
	rotated := false
	err = h.d.record(ctx, cmd.By, cmd.Name, cmd.Meta, func(s *domain.Secret) ([]domain.Payload, error) {
		rotated = s.Exists()
		return s.DecideSet(cmd.Name, cmd.By.UserID), nil
	})
	if err != nil {
		return SecretResult{}, fmt.Errorf("record secret %s: %w", cmd.Name, err)
	}
	info, _, _, err := h.d.find(ctx, cmd.By.TenantID, cmd.Name)
	return SecretResult{Info: info, Rotated: rotated}, err
}
