package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.OAuthStore = (*Store)(nil)

// OAuthClientCreate implements eventstore.OAuthStore.
func (s *Store) OAuthClientCreate(ctx context.Context, c eventstore.OAuthClient) error {
	uris, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return fmt.Errorf("store oauth client: %w", err)
	}
	err = s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.OAuthClientInsert(ctx, db, dbsqlc.OAuthClientInsertParams{ID: c.ID, Name: c.Name, RedirectUris: string(uris), Now: c.CreatedAt.UnixMicro()})
	})
	if err != nil {
		return fmt.Errorf("store oauth client %s: %w", c.ID, err)
	}
	return nil
}

// OAuthClientGet implements eventstore.OAuthStore. It runs on the
// read-only pool.
func (s *Store) OAuthClientGet(ctx context.Context, id string) (eventstore.OAuthClient, error) {
	r, err := s.q.OAuthClientGet(ctx, s.rdb, id)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.OAuthClient{}, eventstore.ErrOAuthNotFound
	}
	if err != nil {
		return eventstore.OAuthClient{}, fmt.Errorf("read oauth client %s: %w", id, s.closedOr(err))
	}
	c := eventstore.OAuthClient{ID: r.ID, Name: r.Name, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
	if err := json.Unmarshal([]byte(r.RedirectUris), &c.RedirectURIs); err != nil {
		return eventstore.OAuthClient{}, fmt.Errorf("read oauth client %s: redirect uris: %w", id, err)
	}
	return c, nil
}

// OAuthGrantCreate implements eventstore.OAuthStore.
func (s *Store) OAuthGrantCreate(ctx context.Context, g eventstore.OAuthGrant, codeHash []byte, codeExpiresAt time.Time) error {
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.OAuthGrantInsert(ctx, db, dbsqlc.OAuthGrantInsertParams{
			ID: g.ID, TenantID: g.TenantID, UserID: g.UserID, ClientID: g.ClientID, Scope: g.Scope, Resource: g.Resource,
			RedirectUri: g.RedirectURI, CodeChallenge: g.CodeChallenge, CodeHash: codeHash, CodeExpiresAt: codeExpiresAt.UnixMicro(), Now: g.CreatedAt.UnixMicro(),
		})
	})
	if err != nil {
		return fmt.Errorf("store oauth grant %s: %w", g.ID, err)
	}
	return nil
}

// OAuthCodeRedeem implements eventstore.OAuthStore: the update and, when it
// finds nothing, the look-up and revocation, on the writer connection,
// which nothing else writes meanwhile.
func (s *Store) OAuthCodeRedeem(ctx context.Context, codeHash, refreshHash []byte, refreshExpiresAt, now time.Time) (eventstore.OAuthGrant, error) {
	var row dbsqlc.OAuthCodeRedeemRow
	var outcome error
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		row, err = s.q.OAuthCodeRedeem(ctx, db, dbsqlc.OAuthCodeRedeemParams{
			RefreshHash: refreshHash, RefreshExpiresAt: sql.NullInt64{Int64: refreshExpiresAt.UnixMicro(), Valid: true}, CodeHash: codeHash, Now: now.UnixMicro(),
		})
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		outcome = eventstore.ErrOAuthNotFound
		used, err := s.q.OAuthGrantIDByCode(ctx, db, codeHash)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && used.CodeUsed == 0) {
			return nil
		}
		if err != nil {
			return err
		}
		outcome = eventstore.ErrOAuthReplayed
		_, err = s.q.OAuthGrantRevoke(ctx, db, dbsqlc.OAuthGrantRevokeParams{Now: sql.NullInt64{Int64: now.UnixMicro(), Valid: true}, ID: used.ID})
		return err
	})
	if err != nil {
		return eventstore.OAuthGrant{}, fmt.Errorf("redeem oauth code: %w", err)
	}
	if outcome != nil {
		return eventstore.OAuthGrant{}, outcome
	}
	return sqliteGrant(row), nil
}

// OAuthRefreshRotate implements eventstore.OAuthStore, in one transaction
// on the writer connection: the update and the keeping of the old token's
// hash or, when the update finds nothing, the revocation of the grant if
// the token was one rotated away. The expired hashes are dropped after it.
func (s *Store) OAuthRefreshRotate(ctx context.Context, id string, oldHash, newHash []byte, refreshExpiresAt, now time.Time) (eventstore.OAuthGrant, error) {
	var row dbsqlc.OAuthRefreshRotateRow
	var outcome error
	at := sql.NullInt64{Int64: now.UnixMicro(), Valid: true}
	err := s.writeTx(ctx, func(db *sql.Tx) error {
		var err error
		row, err = s.q.OAuthRefreshRotate(ctx, db, dbsqlc.OAuthRefreshRotateParams{
			NewHash: newHash, RefreshExpiresAt: sql.NullInt64{Int64: refreshExpiresAt.UnixMicro(), Valid: true}, ID: id, OldHash: oldHash, Now: at,
		})
		switch {
		case err == nil:
			// Kept for as long as its successor lasts.
			return s.q.OAuthRotatedRefreshKeep(ctx, db, dbsqlc.OAuthRotatedRefreshKeepParams{Hash: oldHash, GrantID: id, ExpiresAt: refreshExpiresAt.UnixMicro()})
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// A token rotated away, used again: revoke the family. A token
		// made up around the grant's id revokes nothing.
		n, err := s.q.OAuthGrantRevokeReplayed(ctx, db, dbsqlc.OAuthGrantRevokeReplayedParams{Now: at, ID: id, Hash: oldHash})
		outcome = eventstore.ErrOAuthNotFound
		if n > 0 {
			outcome = eventstore.ErrOAuthReplayed
		}
		return err
	})
	if err != nil {
		return eventstore.OAuthGrant{}, fmt.Errorf("rotate refresh token of oauth grant %s: %w", id, err)
	}
	if outcome != nil {
		return eventstore.OAuthGrant{}, outcome
	}
	// Housekeeping only: a failure leaves expired hashes, which refuse
	// nothing, to the next rotation.
	_ = s.write(ctx, func(db dbsqlc.DBTX) error { return s.q.OAuthRotatedRefreshPrune(ctx, db, now.UnixMicro()) })
	return sqliteGrant(dbsqlc.OAuthCodeRedeemRow(row)), nil
}

// OAuthGrantRevoke implements eventstore.OAuthStore.
func (s *Store) OAuthGrantRevoke(ctx context.Context, id, userID string, now time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.OAuthGrantRevoke(ctx, db, dbsqlc.OAuthGrantRevokeParams{Now: sql.NullInt64{Int64: now.UnixMicro(), Valid: true}, ID: id, UserID: userID})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("revoke oauth grant %s: %w", id, err)
	}
	return n > 0, nil
}

// OAuthGrantInForce implements eventstore.OAuthStore.
func (s *Store) OAuthGrantInForce(ctx context.Context, id string) (bool, error) {
	n, err := s.q.OAuthGrantInForce(ctx, s.rdb, id)
	if err != nil {
		return false, fmt.Errorf("check oauth grant %s: %w", id, err)
	}
	return n > 0, nil
}

// OAuthRefreshRevoke implements eventstore.OAuthStore.
func (s *Store) OAuthRefreshRevoke(ctx context.Context, id string, refreshHash []byte, now time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.OAuthRefreshRevoke(ctx, db, dbsqlc.OAuthRefreshRevokeParams{Now: sql.NullInt64{Int64: now.UnixMicro(), Valid: true}, ID: id, RefreshHash: refreshHash})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("revoke oauth grant %s by its refresh token: %w", id, err)
	}
	return n > 0, nil
}

// OAuthGrantList implements eventstore.OAuthStore. It runs on the
// read-only pool.
func (s *Store) OAuthGrantList(ctx context.Context, userID string, now time.Time) ([]eventstore.OAuthGrant, error) {
	rows, err := s.q.OAuthGrantList(ctx, s.rdb, dbsqlc.OAuthGrantListParams{UserID: userID, Now: sql.NullInt64{Int64: now.UnixMicro(), Valid: true}})
	if err != nil {
		return nil, fmt.Errorf("list oauth grants of %s: %w", userID, s.closedOr(err))
	}
	out := make([]eventstore.OAuthGrant, len(rows))
	for i, r := range rows {
		out[i] = eventstore.OAuthGrant{ID: r.ID, UserID: userID, ClientID: r.ClientID, ClientName: r.ClientName, Scope: r.Scope, Resource: r.Resource, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
	}
	return out, nil
}

func sqliteGrant(r dbsqlc.OAuthCodeRedeemRow) eventstore.OAuthGrant {
	return eventstore.OAuthGrant{
		ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, ClientID: r.ClientID, Scope: r.Scope, Resource: r.Resource,
		RedirectURI: r.RedirectUri, CodeChallenge: r.CodeChallenge, CreatedAt: time.UnixMicro(r.CreatedAt).UTC(),
	}
}
