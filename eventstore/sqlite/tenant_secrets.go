package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.TenantSecretStore = (*Store)(nil)

// TenantSecretPut implements eventstore.TenantSecretStore: a look-up and
// an upsert on the writer connection, which nothing else writes meanwhile.
func (s *Store) TenantSecretPut(ctx context.Context, sec eventstore.SealedSecret, now time.Time) (bool, error) {
	if s.closed.Load() {
		return false, fmt.Errorf("store secret: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateSealedSecret(sec, true); err != nil {
		return false, fmt.Errorf("store secret: %w", err)
	}
	var existed int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		if existed, err = s.q.TenantSecretExists(ctx, db, dbsqlc.TenantSecretExistsParams{TenantID: sec.TenantID, Name: sec.Name}); err != nil {
			return err
		}
		_, err = s.q.TenantSecretUpsert(ctx, db, dbsqlc.TenantSecretUpsertParams{
			TenantID: sec.TenantID, Name: sec.Name, KeyID: sec.KeyID, KeySealed: sec.KeySealed, ValueSealed: sec.ValueSealed, Now: now.UnixMicro(),
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store secret %s of tenant %s: %w", sec.Name, sec.TenantID, err)
	}
	return existed == 0, nil
}

// TenantSecretList implements eventstore.TenantSecretStore. It runs on the
// read-only pool.
func (s *Store) TenantSecretList(ctx context.Context, tenantID string) ([]eventstore.SecretInfo, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list secrets: %w", eventstore.ErrClosed)
	}
	rows, err := s.q.TenantSecretList(ctx, s.rdb, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list secrets of tenant %s: %w", tenantID, s.closedOr(err))
	}
	out := make([]eventstore.SecretInfo, len(rows))
	for i, r := range rows {
		out[i] = eventstore.SecretInfo{Name: r.Name, CreatedAt: time.UnixMicro(r.CreatedAt).UTC(), UpdatedAt: time.UnixMicro(r.UpdatedAt).UTC()}
		if r.LastUsedAt.Valid {
			out[i].LastUsedAt = time.UnixMicro(r.LastUsedAt.Int64).UTC()
		}
	}
	return out, nil
}

// TenantSecretUse implements eventstore.TenantSecretStore: one UPDATE …
// RETURNING on the writer connection.
func (s *Store) TenantSecretUse(ctx context.Context, tenantID string, names []string, now time.Time) ([]eventstore.SealedSecret, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read secrets: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateSecretNames(tenantID, names); err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	arg, err := json.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("read secrets of tenant %s: encode: %w", tenantID, err)
	}
	var rows []dbsqlc.TenantSecretUseRow
	err = s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		rows, err = s.q.TenantSecretUse(ctx, db, dbsqlc.TenantSecretUseParams{Now: sql.NullInt64{Int64: now.UnixMicro(), Valid: true}, TenantID: tenantID, Names: string(arg)})
		return err
	})
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
		return false, fmt.Errorf("delete secret: %w", eventstore.ErrClosed)
	}
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.TenantSecretDelete(ctx, db, dbsqlc.TenantSecretDeleteParams{TenantID: tenantID, Name: name})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("delete secret %s of tenant %s: %w", name, tenantID, err)
	}
	return n > 0, nil
}

// TenantSecretSealedByOthers implements eventstore.TenantSecretStore.
func (s *Store) TenantSecretSealedByOthers(ctx context.Context, keyID string, limit int) ([]eventstore.SealedSecret, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list secrets to re-seal: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateSecretKeyID(keyID); err != nil {
		return nil, fmt.Errorf("list secrets to re-seal: %w", err)
	}
	rows, err := s.q.TenantSecretSealedByOthers(ctx, s.rdb, dbsqlc.TenantSecretSealedByOthersParams{KeyID: keyID, MaxRows: int64(max(1, min(limit, 1000)))})
	if err != nil {
		return nil, fmt.Errorf("list secrets to re-seal: %w", s.closedOr(err))
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
		return false, fmt.Errorf("re-seal secret: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateSealedSecret(eventstore.SealedSecret{TenantID: old.TenantID, Name: old.Name, KeyID: keyID, KeySealed: keySealed}, false); err != nil {
		return false, fmt.Errorf("re-seal secret: %w", err)
	}
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.TenantSecretReseal(ctx, db, dbsqlc.TenantSecretResealParams{
			NewKeyID: keyID, NewKeySealed: keySealed, TenantID: old.TenantID, Name: old.Name, OldKeyID: old.KeyID, OldKeySealed: old.KeySealed,
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("re-seal secret %s of tenant %s: %w", old.Name, old.TenantID, err)
	}
	return n > 0, nil
}
