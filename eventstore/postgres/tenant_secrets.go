package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.TenantSecretStore = (*Store)(nil)

// TenantSecretPut implements eventstore.TenantSecretStore: one upsert.
func (s *Store) TenantSecretPut(ctx context.Context, sec eventstore.SealedSecret, now time.Time) (bool, error) {
	if s.closed.Load() {
		return false, eventstore.ErrClosed
	}
	if err := engine.ValidateSealedSecret(sec, true); err != nil {
		return false, fmt.Errorf("store secret: %w", err)
	}
	created, err := s.q.TenantSecretUpsert(ctx, s.pool, dbsqlc.TenantSecretUpsertParams{
		TenantID: sec.TenantID, Name: sec.Name, KeyID: sec.KeyID, KeySealed: sec.KeySealed, ValueSealed: sec.ValueSealed, Now: now.UTC(),
	})
	if err != nil {
		return false, fmt.Errorf("store secret %s of tenant %s: %w", sec.Name, sec.TenantID, err)
	}
	return created, nil
}

// TenantSecretList implements eventstore.TenantSecretStore.
func (s *Store) TenantSecretList(ctx context.Context, tenantID string) ([]eventstore.SecretInfo, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.TenantSecretList(ctx, s.pool, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list secrets of tenant %s: %w", tenantID, err)
	}
	out := make([]eventstore.SecretInfo, len(rows))
	for i, r := range rows {
		out[i] = eventstore.SecretInfo{Name: r.Name, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		if r.LastUsedAt.Valid {
			out[i].LastUsedAt = r.LastUsedAt.Time.UTC()
		}
	}
	return out, nil
}

// TenantSecretUse implements eventstore.TenantSecretStore: one UPDATE …
// RETURNING.
func (s *Store) TenantSecretUse(ctx context.Context, tenantID string, names []string, now time.Time) ([]eventstore.SealedSecret, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := engine.ValidateSecretNames(tenantID, names); err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	rows, err := s.q.TenantSecretUse(ctx, s.pool, dbsqlc.TenantSecretUseParams{Now: pgtype.Timestamptz{Time: now.UTC(), Valid: true}, TenantID: tenantID, Names: names})
	if err != nil {
		return nil, fmt.Errorf("read secrets of tenant %s: %w", tenantID, err)
	}
	out := make([]eventstore.SealedSecret, len(rows))
	for i, r := range rows {
		out[i] = eventstore.SealedSecret{TenantID: tenantID, Name: r.Name, KeyID: r.KeyID, KeySealed: r.KeySealed, ValueSealed: r.ValueSealed}
	}
	return out, nil
}

// TenantSecretDelete implements eventstore.TenantSecretStore.
func (s *Store) TenantSecretDelete(ctx context.Context, tenantID, name string) (bool, error) {
	if s.closed.Load() {
		return false, eventstore.ErrClosed
	}
	n, err := s.q.TenantSecretDelete(ctx, s.pool, dbsqlc.TenantSecretDeleteParams{TenantID: tenantID, Name: name})
	if err != nil {
		return false, fmt.Errorf("delete secret %s of tenant %s: %w", name, tenantID, err)
	}
	return n > 0, nil
}

// TenantSecretSealedByOthers implements eventstore.TenantSecretStore.
func (s *Store) TenantSecretSealedByOthers(ctx context.Context, keyID string, limit int) ([]eventstore.SealedSecret, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := engine.ValidateSecretKeyID(keyID); err != nil {
		return nil, fmt.Errorf("list secrets to re-seal: %w", err)
	}
	rows, err := s.q.TenantSecretSealedByOthers(ctx, s.pool, dbsqlc.TenantSecretSealedByOthersParams{KeyID: keyID, MaxRows: int32(max(1, min(limit, 1000)))})
	if err != nil {
		return nil, fmt.Errorf("list secrets to re-seal: %w", err)
	}
	out := make([]eventstore.SealedSecret, len(rows))
	for i, r := range rows {
		out[i] = eventstore.SealedSecret{TenantID: r.TenantID, Name: r.Name, KeyID: r.KeyID, KeySealed: r.KeySealed}
	}
	return out, nil
}

// TenantSecretReseal implements eventstore.TenantSecretStore.
func (s *Store) TenantSecretReseal(ctx context.Context, old eventstore.SealedSecret, keyID string, keySealed []byte) (bool, error) {
	if s.closed.Load() {
		return false, eventstore.ErrClosed
	}
	if err := engine.ValidateSealedSecret(eventstore.SealedSecret{TenantID: old.TenantID, Name: old.Name, KeyID: keyID, KeySealed: keySealed}, false); err != nil {
		return false, fmt.Errorf("re-seal secret: %w", err)
	}
	n, err := s.q.TenantSecretReseal(ctx, s.pool, dbsqlc.TenantSecretResealParams{
		NewKeyID: keyID, NewKeySealed: keySealed, TenantID: old.TenantID, Name: old.Name, OldKeyID: old.KeyID, OldKeySealed: old.KeySealed,
	})
	if err != nil {
		return false, fmt.Errorf("re-seal secret %s of tenant %s: %w", old.Name, old.TenantID, err)
	}
	return n > 0, nil
}
