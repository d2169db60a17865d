package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
)

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

// activeAPIKeys loads up to limit active keys of a tenant, oldest id
// first: CreateAPIKey counts them, ListAPIKeys lists them.
func (d *IdentityDeps) activeAPIKeys(ctx context.Context, tenantID string, limit int) ([]APIKeyInfo, error) {
	var out []APIKeyInfo
	after := ""
	for len(out) < limit {
		ids, err := d.cfg.Store.ListStreams(ctx, tenantID, domain.StreamAPIKey, after, 0)
		if err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		for _, keyID := range ids {
			var k domain.APIKey
			if err := d.load(ctx, domain.StreamAPIKey, keyID, &k); err != nil {
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
