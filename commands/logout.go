package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/axontask/axontask/domain"
)

// Logout ends the session of a refresh token.
type Logout struct {
	RefreshToken string
	Meta         domain.Metadata
}

// LogoutHandler handles Logout. Build it with NewIdentityHandlers; it is
// safe for concurrent use.
type LogoutHandler struct{ deps *IdentityDeps }

// Handle revokes the session of cmd's refresh token. It is idempotent; a
// malformed or unknown token fails with ErrUnauthenticated.
func (h *LogoutHandler) Handle(ctx context.Context, cmd Logout) (struct{}, error) {
	sessionID, tokenHash, s, err := h.deps.sessionOf(ctx, cmd.RefreshToken)
	if err != nil {
		return struct{}{}, err
	}
	switch err := s.CheckRefresh(tokenHash, h.deps.cfg.NowFunc()); {
	case errors.Is(err, domain.ErrSessionEnded):
		return struct{}{}, nil
	case err != nil && !errors.Is(err, domain.ErrRefreshTokenReused):
		return struct{}{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	h.deps.revokeSession(ctx, sessionID.String(), s, "logout", cmd.Meta)
	return struct{}{}, nil
}
