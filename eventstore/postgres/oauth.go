package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.OAuthStore = (*Store)(nil)

// OAuthClientCreate implements eventstore.OAuthStore.
func (s *Store) OAuthClientCreate(ctx context.Context, c eventstore.OAuthClient) error {
	uris, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return fmt.Errorf("store oauth client: %w", err)
	}
	if err := s.q.OAuthClientInsert(ctx, s.pool, dbsqlc.OAuthClientInsertParams{ID: c.ID, Name: c.Name, RedirectUris: string(uris), Now: c.CreatedAt.UTC()}); err != nil {
		return fmt.Errorf("store oauth client %s: %w", c.ID, err)
	}
	return nil
}

// OAuthClientGet implements eventstore.OAuthStore.
func (s *Store) OAuthClientGet(ctx context.Context, id string) (eventstore.OAuthClient, error) {
	r, err := s.q.OAuthClientGet(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.OAuthClient{}, eventstore.ErrOAuthNotFound
	}
	if err != nil {
		return eventstore.OAuthClient{}, fmt.Errorf("read oauth client %s: %w", id, err)
	}
	c := eventstore.OAuthClient{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.RedirectUris), &c.RedirectURIs); err != nil {
		return eventstore.OAuthClient{}, fmt.Errorf("read oauth client %s: redirect uris: %w", id, err)
	}
	return c, nil
}

// OAuthGrantCreate implements eventstore.OAuthStore.
func (s *Store) OAuthGrantCreate(ctx context.Context, g eventstore.OAuthGrant, codeHash []byte, codeExpiresAt time.Time) error {
	err := s.q.OAuthGrantInsert(ctx, s.pool, dbsqlc.OAuthGrantInsertParams{
		ID: g.ID, TenantID: g.TenantID, UserID: g.UserID, ClientID: g.ClientID, Scope: g.Scope, Resource: g.Resource,
		RedirectUri: g.RedirectURI, CodeChallenge: g.CodeChallenge, CodeHash: codeHash, CodeExpiresAt: codeExpiresAt.UTC(), Now: g.CreatedAt.UTC(),
	})
	if err != nil {
		return fmt.Errorf("store oauth grant %s: %w", g.ID, err)
	}
	return nil
}

// OAuthCodeRedeem implements eventstore.OAuthStore: one UPDATE …
// RETURNING; when it finds nothing, a look-up and, for a used code, the
// revocation (of two concurrent redemptions, the update lets one win and
// the other revokes).
func (s *Store) OAuthCodeRedeem(ctx context.Context, codeHash, refreshHash []byte, refreshExpiresAt, now time.Time) (eventstore.OAuthGrant, error) {
	row, err := s.q.OAuthCodeRedeem(ctx, s.pool, dbsqlc.OAuthCodeRedeemParams{
		RefreshHash: refreshHash, RefreshExpiresAt: pgtype.Timestamptz{Time: refreshExpiresAt.UTC(), Valid: true}, CodeHash: codeHash, Now: now.UTC(),
	})
	if err == nil {
		return pgGrant(row), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return eventstore.OAuthGrant{}, fmt.Errorf("redeem oauth code: %w", err)
	}
	used, err := s.q.OAuthGrantIDByCode(ctx, s.pool, codeHash)
	switch {
	case errors.Is(err, pgx.ErrNoRows), err == nil && !used.CodeUsed:
		return eventstore.OAuthGrant{}, eventstore.ErrOAuthNotFound
	case err != nil:
		return eventstore.OAuthGrant{}, fmt.Errorf("redeem oauth code: %w", err)
	}
	if _, err := s.OAuthGrantRevoke(ctx, used.ID, "", now); err != nil {
		return eventstore.OAuthGrant{}, err
	}
	return eventstore.OAuthGrant{}, eventstore.ErrOAuthReplayed
}

// OAuthRefreshRotate implements eventstore.OAuthStore: in one transaction,
// the UPDATE … RETURNING and the keeping of the old token's hash or, when
// the update finds nothing, the revocation of the grant if the token was
// one rotated away. The expired hashes are dropped after it.
func (s *Store) OAuthRefreshRotate(ctx context.Context, id string, oldHash, newHash []byte, refreshExpiresAt, now time.Time) (eventstore.OAuthGrant, error) {
	var row dbsqlc.OAuthRefreshRotateRow
	var outcome error
	at := pgtype.Timestamptz{Time: now.UTC(), Valid: true}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		row, err = s.q.OAuthRefreshRotate(ctx, tx, dbsqlc.OAuthRefreshRotateParams{
			NewHash: newHash, RefreshExpiresAt: pgtype.Timestamptz{Time: refreshExpiresAt.UTC(), Valid: true}, ID: id, OldHash: oldHash, Now: at,
		})
		switch {
		case err == nil:
			// Kept for as long as its successor lasts.
			return s.q.OAuthRotatedRefreshKeep(ctx, tx, dbsqlc.OAuthRotatedRefreshKeepParams{Hash: oldHash, GrantID: id, ExpiresAt: refreshExpiresAt.UTC()})
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		n, err := s.q.OAuthGrantRevokeReplayed(ctx, tx, dbsqlc.OAuthGrantRevokeReplayedParams{Now: at, ID: id, Hash: oldHash})
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
	_ = s.q.OAuthRotatedRefreshPrune(ctx, s.pool, now.UTC())
	return pgGrant(dbsqlc.OAuthCodeRedeemRow(row)), nil
}

// OAuthGrantRevoke implements eventstore.OAuthStore.
func (s *Store) OAuthGrantRevoke(ctx context.Context, id, userID string, now time.Time) (bool, error) {
	n, err := s.q.OAuthGrantRevoke(ctx, s.pool, dbsqlc.OAuthGrantRevokeParams{Now: pgtype.Timestamptz{Time: now.UTC(), Valid: true}, ID: id, UserID: userID})
	if err != nil {
		return false, fmt.Errorf("revoke oauth grant %s: %w", id, err)
	}
	return n > 0, nil
}

// OAuthGrantInForce implements eventstore.OAuthStore.
func (s *Store) OAuthGrantInForce(ctx context.Context, id string) (bool, error) {
	n, err := s.q.OAuthGrantInForce(ctx, s.pool, id)
	if err != nil {
		return false, fmt.Errorf("check oauth grant %s: %w", id, err)
	}
	return n > 0, nil
}

// OAuthRefreshRevoke implements eventstore.OAuthStore.
func (s *Store) OAuthRefreshRevoke(ctx context.Context, id string, refreshHash []byte, now time.Time) (bool, error) {
	n, err := s.q.OAuthRefreshRevoke(ctx, s.pool, dbsqlc.OAuthRefreshRevokeParams{Now: pgtype.Timestamptz{Time: now.UTC(), Valid: true}, ID: id, RefreshHash: refreshHash})
	if err != nil {
		return false, fmt.Errorf("revoke oauth grant %s by its refresh token: %w", id, err)
	}
	return n > 0, nil
}

// OAuthGrantList implements eventstore.OAuthStore.
func (s *Store) OAuthGrantList(ctx context.Context, userID string, now time.Time) ([]eventstore.OAuthGrant, error) {
	rows, err := s.q.OAuthGrantList(ctx, s.pool, dbsqlc.OAuthGrantListParams{UserID: userID, Now: pgtype.Timestamptz{Time: now.UTC(), Valid: true}})
	if err != nil {
		return nil, fmt.Errorf("list oauth grants of %s: %w", userID, err)
	}
	out := make([]eventstore.OAuthGrant, len(rows))
	for i, r := range rows {
		out[i] = eventstore.OAuthGrant{ID: r.ID, UserID: userID, ClientID: r.ClientID, ClientName: r.ClientName, Scope: r.Scope, Resource: r.Resource, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

func pgGrant(r dbsqlc.OAuthCodeRedeemRow) eventstore.OAuthGrant {
	return eventstore.OAuthGrant{
		ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, ClientID: r.ClientID, Scope: r.Scope, Resource: r.Resource,
		RedirectURI: r.RedirectUri, CodeChallenge: r.CodeChallenge, CreatedAt: r.CreatedAt.UTC(),
	}
}
