package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// CreateAPIKey creates an API key in the principal's tenant.
type CreateAPIKey struct {
	By     Principal
	Name   string
	Scopes []string
	Meta   domain.Metadata
}

// CreateAPIKeyResult is the key a CreateAPIKey made.
type CreateAPIKeyResult struct {
	// Key is the key in plaintext, shown this once and never stored.
	Key  string
	Info APIKeyInfo
}

// CreateAPIKeyHandler handles CreateAPIKey. Build it with
// NewIdentityHandlers; it is safe for concurrent use.
type CreateAPIKeyHandler struct{ deps *IdentityDeps }

// Handle validates cmd, appends api_key.created to the new key's stream
// and returns the key in plaintext, the only time it is ever shown. The
// principal must manage keys, and may grant only scopes it could use
// itself (ErrForbidden otherwise); a tenant with MaxAPIKeysPerTenant active
// keys gets no more (ErrTooManyAPIKeys).
func (h *CreateAPIKeyHandler) Handle(ctx context.Context, cmd CreateAPIKey) (CreateAPIKeyResult, error) {
	if err := cmd.By.require(domain.ActionManageOwnKeys); err != nil {
		return CreateAPIKeyResult{}, err
	}
	if err := domain.ValidateDisplayName("name", cmd.Name, domain.MaxAPIKeyNameLen); err != nil {
		return CreateAPIKeyResult{}, err
	}
	scopes, err := domain.ParseScopes(cmd.Scopes)
	if err != nil {
		return CreateAPIKeyResult{}, err
	}
	for _, s := range scopes {
		if !cmd.By.canGrant(s) {
			return CreateAPIKeyResult{}, fmt.Errorf("%w: %s may not create a key with scope %s", ErrForbidden, cmd.By.describe(), s)
		}
	}
	active, err := h.deps.activeAPIKeys(ctx, cmd.By.TenantID, MaxAPIKeysPerTenant)
	if err != nil {
		return CreateAPIKeyResult{}, err
	}
	if len(active) >= MaxAPIKeysPerTenant {
		return CreateAPIKeyResult{}, ErrTooManyAPIKeys
	}
	plaintext, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		return CreateAPIKeyResult{}, err
	}
	keyID := APIKeyIDFor(prefix)
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	stream := eventstore.Stream{ID: keyID, Type: domain.StreamAPIKey, TenantID: cmd.By.TenantID}
	created := &domain.APIKeyCreated{CreatedBy: cmd.By.UserID, Name: cmd.Name, Prefix: prefix, Scopes: scopes.Strings(), SecretHash: hexHash(hash)}
	if err := h.deps.appendOne(ctx, stream, 0, created, meta); err != nil {
		return CreateAPIKeyResult{}, fmt.Errorf("create API key: %w", err)
	}
	return CreateAPIKeyResult{Key: plaintext, Info: APIKeyInfo{ID: keyID, Name: cmd.Name, Prefix: prefix, Scopes: scopes, CreatedBy: cmd.By.UserID,
		CreatedAt: domain.NormalizeTime(h.deps.cfg.NowFunc())}}, nil
}
