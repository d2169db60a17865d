package commands

import (
	"context"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// This file holds what Register, Login, Refresh and Logout share: a
// session's start, its tokens, its revocation, and the member's role that
// goes into an access token.

// Tokens answer a successful register, login or refresh.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64
	UserID    string
	TenantID  string
	Role      domain.Role
}

// memberRole returns userID's role in tenantID; a non-member (or a tenant
// that does not exist) is ErrBadCredentials.
func (d *IdentityDeps) memberRole(ctx context.Context, tenantID, userID string) (domain.Role, error) {
	var tenant domain.Tenant
	if err := d.load(ctx, domain.StreamTenant, tenantID, &tenant); err != nil {
		return "", err
	}
	role, ok := tenant.Role(userID)
	if !ok {
		return "", ErrBadCredentials
	}
	return role, nil
}

// startSession appends session.started to a new session stream and issues
// the session's first refresh token and an access token.
func (d *IdentityDeps) startSession(ctx context.Context, userID, tenantID string, role domain.Role, meta domain.Metadata) (Tokens, error) {
	sessionID, err := uuid.NewV7()
	if err != nil {
		return Tokens{}, fmt.Errorf("new session id: %w", err)
	}
	refresh, hash, err := auth.NewRefreshToken(sessionID)
	if err != nil {
		return Tokens{}, err
	}
	stream := eventstore.Stream{ID: sessionID.String(), Type: domain.StreamSession, TenantID: tenantID}
	started := &domain.SessionStarted{
		ExpiresAt: domain.FormatTime(d.cfg.NowFunc().Add(d.cfg.SessionTTL)),
		TokenHash: hexHash(hash),
		UserID:    userID,
	}
	if err := d.appendOne(ctx, stream, 0, started, meta); err != nil {
		return Tokens{}, fmt.Errorf("start session: %w", err)
	}
	return d.issue(userID, tenantID, role, refresh)
}

// issue signs an access token to go with a refresh token.
func (d *IdentityDeps) issue(userID, tenantID string, role domain.Role, refresh string) (Tokens, error) {
	access, exp, err := d.cfg.Issuer.Issue(userID, tenantID, role)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{
		AccessToken:  access,
		RefreshToken: refresh,
		ExpiresIn:    int64(math.Round(exp.Sub(d.cfg.NowFunc()).Seconds())),
		UserID:       userID,
		TenantID:     tenantID,
		Role:         role,
	}, nil
}

// revokeSession appends session.revoked (see Update: a session that moved
// on meanwhile is decided on again); failures are logged, the caller's
// answer does not change.
func (d *IdentityDeps) revokeSession(ctx context.Context, sessionID string, s *domain.Session, reason string, meta domain.Metadata) {
	meta.Actor = "user:" + s.UserID()
	to := Target{Stream: eventstore.Stream{ID: sessionID, Type: domain.StreamSession, TenantID: s.TenantID()}, Meta: meta}
	_, err := Update(ctx, d.w, to, s, func(s *domain.Session) ([]domain.Payload, error) { return s.DecideRevoke(reason) })
	if err != nil {
		d.cfg.Logger.ErrorContext(ctx, "identity: revoke session", "session_id", sessionID, "err", err)
	}
}

// sessionOf parses a refresh token and loads its session. A malformed
// token is ErrUnauthenticated; an unknown one leaves the session empty,
// which its CheckRefresh reports.
func (d *IdentityDeps) sessionOf(ctx context.Context, refreshToken string) (sessionID uuid.UUID, tokenHash string, s *domain.Session, err error) {
	sessionID, hash, err := auth.ParseRefreshToken(refreshToken)
	if err != nil {
		return uuid.Nil, "", nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	s = &domain.Session{}
	if err := d.load(ctx, domain.StreamSession, sessionID.String(), s); err != nil {
		return uuid.Nil, "", nil, err
	}
	return sessionID, hexHash(hash), s, nil
}
