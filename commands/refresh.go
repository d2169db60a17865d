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

// RefreshHandler handles Refresh. Build it with NewIdentityHandlers; it is
// safe for concurrent use.
type RefreshHandler struct{ deps *IdentityDeps }

// Handle rotates the session's refresh token. The role in the new access
// token is read from the tenant now, so a role change or a removal takes
// effect at the next refresh. A token that was already used revokes the
// whole session and fails with ErrUnauthenticated, as do malformed,
// unknown, expired and revoked tokens. Two refreshes racing with the same
// token are a replay: one wins, the other revokes the session.
func (h *RefreshHandler) Handle(ctx context.Context, cmd Refresh) (Tokens, error) {
	sessionID, tokenHash, s, err := h.deps.sessionOf(ctx, cmd.RefreshToken)
	if err != nil {
		return Tokens{}, err
	}
	switch err := s.CheckRefresh(tokenHash, h.deps.cfg.NowFunc()); {
	case errors.Is(err, domain.ErrRefreshTokenReused):
		h.deps.revokeSession(ctx, sessionID.String(), s, "a used refresh token was presented again", cmd.Meta)
		return Tokens{}, fmt.Errorf("%w: %w; every token of this session is revoked, sign in again", ErrUnauthenticated, err)
	case err != nil:
		return Tokens{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	role, err := h.deps.memberRole(ctx, s.TenantID(), s.UserID())
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
	err = h.deps.appendOne(ctx, stream, s.Seq(), &domain.SessionRefreshed{TokenHash: hexHash(nextHash)}, meta)
	if errors.Is(err, eventstore.ErrConflict) {
		// Another refresh of the same token won the race: a replay.
		return h.Handle(ctx, cmd)
	}
	if err != nil {
		return Tokens{}, err
	}
	return h.deps.issue(s.UserID(), s.TenantID(), role, next)
}
