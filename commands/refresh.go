package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// Refresh exchanges a refresh token for a new access token and the
// session's next refresh token.
type Refresh struct {
	RefreshToken string
	Meta         domain.Metadata
}

// Refresh rotates the session's refresh token. The role in the new access
// token is read from the tenant now, so a role change or a removal takes
// effect at the next refresh. A token that was already used revokes the
// whole session and fails with ErrUnauthenticated, as do malformed,
// unknown, expired and revoked tokens. Two refreshes racing with the same
// token are a replay: one wins, the other revokes the session.
func (id *Identity) Refresh(ctx context.Context, cmd Refresh) (Tokens, error) {
	sessionID, hash, err := auth.ParseRefreshToken(cmd.RefreshToken)
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	var s domain.Session
	if err := id.load(ctx, domain.StreamSession, sessionID.String(), &s); err != nil {
		return Tokens{}, err
	}
	switch err := s.CheckRefresh(hexHash(hash), id.cfg.NowFunc()); {
	case errors.Is(err, domain.ErrRefreshTokenReused):
		id.revokeSession(ctx, sessionID.String(), &s, "a used refresh token was presented again", cmd.Meta)
		return Tokens{}, fmt.Errorf("%w: %w; every token of this session is revoked, sign in again", ErrUnauthenticated, err)
	case err != nil:
		return Tokens{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	role, err := id.memberRole(ctx, s.TenantID(), s.UserID())
	if errors.Is(err, ErrBadCredentials) {
		return Tokens{}, fmt.Errorf("%w: the user is no longer a member of the tenant", ErrUnauthenticated)
	}
	if err != nil {
		return Tokens{}, err
	}
	next, nextHash, err := auth.NewRefreshToken(sessionID)
	if err != nil {
		return Tokens{}, err
	}
	meta := cmd.Meta
	meta.Actor = "user:" + s.UserID()
	stream := eventstore.Stream{ID: sessionID.String(), Type: domain.StreamSession, TenantID: s.TenantID()}
	err = id.appendOne(ctx, stream, s.Seq(), &domain.SessionRefreshed{TokenHash: hexHash(nextHash)}, meta)
	if errors.Is(err, eventstore.ErrConflict) {
		// Another refresh of the same token won the race: a replay.
		return id.Refresh(ctx, cmd)
	}
	if err != nil {
		return Tokens{}, err
	}
	return id.issue(s.UserID(), s.TenantID(), role, next)
}

// Logout revokes the session of a refresh token. It is idempotent; a
// malformed or unknown token fails with ErrUnauthenticated.
func (id *Identity) Logout(ctx context.Context, refreshToken string, meta domain.Metadata) error {
	sessionID, hash, err := auth.ParseRefreshToken(refreshToken)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	var s domain.Session
	if err := id.load(ctx, domain.StreamSession, sessionID.String(), &s); err != nil {
		return err
	}
	switch err := s.CheckRefresh(hexHash(hash), id.cfg.NowFunc()); {
	case errors.Is(err, domain.ErrSessionEnded):
		return nil
	case err != nil && !errors.Is(err, domain.ErrRefreshTokenReused):
		return fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	id.revokeSession(ctx, sessionID.String(), &s, "logout", meta)
	return nil
}

// revokeSession appends session.revoked (see Update: a session that moved
// on meanwhile is decided on again); failures are logged, the caller's
// answer does not change.
func (id *Identity) revokeSession(ctx context.Context, sessionID string, s *domain.Session, reason string, meta domain.Metadata) {
	meta.Actor = "user:" + s.UserID()
	to := Target{Stream: eventstore.Stream{ID: sessionID, Type: domain.StreamSession, TenantID: s.TenantID()}, Meta: meta}
	_, err := Update(ctx, id.w, to, s, func(s *domain.Session) ([]domain.Payload, error) { return s.DecideRevoke(reason) })
	if err != nil {
		id.cfg.Logger.ErrorContext(ctx, "identity: revoke session", "session_id", sessionID, "err", err)
	}
}
