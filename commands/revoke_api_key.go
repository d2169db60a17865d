package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// RevokeAPIKey revokes an API key of the principal's tenant.
type RevokeAPIKey struct {
	By    Principal
	KeyID string
	Meta  domain.Metadata
}

// RevokeAPIKeyHandler handles RevokeAPIKey. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type RevokeAPIKeyHandler struct{ deps *IdentityDeps }

// Handle revokes the key cmd.KeyID of the principal's tenant, with effect
// on every API process at once (keys are checked against the store on every
// request). Revoking a revoked key is a no-op. A key of another tenant, or
// an id that is no key, is ErrAPIKeyNotFound; another user's key without
// manage_keys is ErrForbidden.
func (h *RevokeAPIKeyHandler) Handle(ctx context.Context, cmd RevokeAPIKey) (struct{}, error) {
	by := cmd.By
	if err := by.require(domain.ActionManageOwnKeys); err != nil {
		return struct{}{}, err
	}
	if _, err := uuid.Parse(cmd.KeyID); err != nil {
		return struct{}{}, &domain.ValidationError{Field: "id", Reason: "must be an API key id: a UUID like 0190d2a4-6c1e-7b3a-9f00-000000000000"}
	}
	var k domain.APIKey
	if err := h.deps.load(ctx, domain.StreamAPIKey, cmd.KeyID, &k); err != nil {
		return struct{}{}, err
	}
	switch {
	case !k.Exists() || k.TenantID() != by.TenantID:
		return struct{}{}, ErrAPIKeyNotFound
	case k.Revoked():
		return struct{}{}, nil
	case k.CreatedBy() != by.UserID && !by.Can(domain.ActionManageKeys):
		return struct{}{}, fmt.Errorf("%w: %s may revoke only its user's own keys", ErrForbidden, by.describe())
	}
	meta := cmd.Meta
	meta.Actor = by.Actor()
	stream := eventstore.Stream{ID: cmd.KeyID, Type: domain.StreamAPIKey, TenantID: by.TenantID}
	err := h.deps.appendOne(ctx, stream, k.Seq(), &domain.APIKeyRevoked{RevokedBy: by.UserID}, meta)
	if errors.Is(err, eventstore.ErrConflict) {
		return struct{}{}, nil // revoked concurrently: the only event that can follow creation
	}
	return struct{}{}, err
}
