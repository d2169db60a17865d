package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

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

// APIKeyInfo describes an API key; it never holds the secret.
type APIKeyInfo struct {
	ID        string
	Name      string
	Prefix    string
	Scopes    domain.Scopes
	CreatedBy string
	CreatedAt time.Time
	// LastUsedAt is zero when the key was never used (to the minute or so:
	// uses are written in batches).
	LastUsedAt time.Time
}

// CreateAPIKey validates cmd, appends api_key.created to the new key's
// stream and returns the key in plaintext, the only time it is ever shown.
// The principal must manage keys, and may grant only scopes it could use
// itself (ErrForbidden otherwise).
func (id *Identity) CreateAPIKey(ctx context.Context, cmd CreateAPIKey) (key string, info APIKeyInfo, err error) {
	if err := cmd.By.require(domain.ActionManageOwnKeys); err != nil {
		return "", APIKeyInfo{}, err
	}
	if err := domain.ValidateDisplayName("name", cmd.Name, domain.MaxAPIKeyNameLen); err != nil {
		return "", APIKeyInfo{}, err
	}
	scopes, err := domain.ParseScopes(cmd.Scopes)
	if err != nil {
		return "", APIKeyInfo{}, err
	}
	for _, s := range scopes {
		if !cmd.By.canGrant(s) {
			return "", APIKeyInfo{}, fmt.Errorf("%w: %s may not create a key with scope %s", ErrForbidden, cmd.By.describe(), s)
		}
	}
	active, err := id.apiKeys(ctx, cmd.By.TenantID, MaxAPIKeysPerTenant)
	if err != nil {
		return "", APIKeyInfo{}, err
	}
	if len(active) >= MaxAPIKeysPerTenant {
		return "", APIKeyInfo{}, ErrTooManyAPIKeys
	}
	plaintext, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		return "", APIKeyInfo{}, err
	}
	keyID := APIKeyIDFor(prefix)
	meta := cmd.Meta
	meta.Actor = cmd.By.Actor()
	stream := eventstore.Stream{ID: keyID, Type: domain.StreamAPIKey, TenantID: cmd.By.TenantID}
	created := &domain.APIKeyCreated{CreatedBy: cmd.By.UserID, Name: cmd.Name, Prefix: prefix, Scopes: scopes.Strings(), SecretHash: hexHash(hash)}
	if err := id.appendOne(ctx, stream, 0, created, meta); err != nil {
		return "", APIKeyInfo{}, fmt.Errorf("create API key: %w", err)
	}
	return plaintext, APIKeyInfo{ID: keyID, Name: cmd.Name, Prefix: prefix, Scopes: scopes, CreatedBy: cmd.By.UserID,
		CreatedAt: domain.NormalizeTime(id.cfg.NowFunc())}, nil
}

// ListAPIKeys returns the active API keys of the principal's tenant that it
// may see (all of them with manage_keys, its user's own otherwise), oldest
// id first.
func (id *Identity) ListAPIKeys(ctx context.Context, by Principal) ([]APIKeyInfo, error) {
	if err := by.require(domain.ActionManageOwnKeys); err != nil {
		return nil, err
	}
	keys, err := id.apiKeys(ctx, by.TenantID, MaxAPIKeysPerTenant)
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
	used, err := id.cfg.Store.APIKeyUsageGet(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].LastUsedAt = id.usage.lastUsed(out[i].ID, used[out[i].ID])
	}
	return out, nil
}

// apiKeys loads up to limit active keys of a tenant.
func (id *Identity) apiKeys(ctx context.Context, tenantID string, limit int) ([]APIKeyInfo, error) {
	var out []APIKeyInfo
	after := ""
	for len(out) < limit {
		ids, err := id.cfg.Store.ListStreams(ctx, tenantID, domain.StreamAPIKey, after, 0)
		if err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		for _, keyID := range ids {
			var k domain.APIKey
			if err := id.load(ctx, domain.StreamAPIKey, keyID, &k); err != nil {
				return nil, err
			}
			if !k.Revoked() {
				out = append(out, keyInfo(keyID, &k))
			}
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}

func keyInfo(keyID string, k *domain.APIKey) APIKeyInfo {
	return APIKeyInfo{ID: keyID, Name: k.Name(), Prefix: k.Prefix(), Scopes: k.Scopes(), CreatedBy: k.CreatedBy(), CreatedAt: k.CreatedAt()}
}

// RevokeAPIKey revokes the key keyID of the principal's tenant, with effect
// on every API process at once (keys are checked against the store on every
// request). Revoking a revoked key is a no-op. A key of another tenant, or
// an id that is no key, is ErrAPIKeyNotFound; another user's key without
// manage_keys is ErrForbidden.
func (id *Identity) RevokeAPIKey(ctx context.Context, by Principal, keyID string, meta domain.Metadata) error {
	if err := by.require(domain.ActionManageOwnKeys); err != nil {
		return err
	}
	if _, err := uuid.Parse(keyID); err != nil {
		return &domain.ValidationError{Field: "id", Reason: "must be an API key id: a UUID like 0190d2a4-6c1e-7b3a-9f00-000000000000"}
	}
	var k domain.APIKey
	if err := id.load(ctx, domain.StreamAPIKey, keyID, &k); err != nil {
		return err
	}
	switch {
	case !k.Exists() || k.TenantID() != by.TenantID:
		return ErrAPIKeyNotFound
	case k.Revoked():
		return nil
	case k.CreatedBy() != by.UserID && !by.Can(domain.ActionManageKeys):
		return fmt.Errorf("%w: %s may revoke only its user's own keys", ErrForbidden, by.describe())
	}
	meta.Actor = by.Actor()
	stream := eventstore.Stream{ID: keyID, Type: domain.StreamAPIKey, TenantID: by.TenantID}
	err := id.appendOne(ctx, stream, k.Seq(), &domain.APIKeyRevoked{RevokedBy: by.UserID}, meta)
	if errors.Is(err, eventstore.ErrConflict) {
		return nil // revoked concurrently: the only event that can follow creation
	}
	return err
}
