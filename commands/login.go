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

// Login signs a user in with their password.
type Login struct {
	Email    string
	Password string
	// TenantID chooses the tenant to act in; empty: the user's home tenant.
	TenantID string
	Meta     domain.Metadata
}

// Login checks cmd's password and starts a session in the tenant asked
// for. A wrong address, a wrong password and a tenant the user is not a
// member of all fail with ErrBadCredentials, in about the same time. A
// password hashed with weaker parameters than auth.DefaultParams is hashed
// again and stored.
func (id *Identity) Login(ctx context.Context, cmd Login) (Tokens, error) {
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		return Tokens{}, err
	}
	if cmd.TenantID != "" {
		if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
			return Tokens{}, err
		}
	}
	userID := UserIDFor(email)
	var user domain.User
	if err := id.load(ctx, domain.StreamUser, userID, &user); err != nil {
		return Tokens{}, err
	}
	stored := user.PasswordHash()
	if !user.Exists() {
		stored = id.dummyHash
	}
	ok, rehash, err := id.verifyPassword(ctx, stored, cmd.Password)
	if err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	if !ok || !user.Exists() {
		return Tokens{}, ErrBadCredentials
	}
	tenantID := cmd.TenantID
	if tenantID == "" {
		tenantID = user.HomeTenantID()
	}
	role, err := id.memberRole(ctx, tenantID, userID)
	if err != nil {
		return Tokens{}, err
	}
	meta := cmd.Meta
	meta.Actor = "user:" + userID
	if rehash {
		id.rehash(ctx, &user, userID, cmd.Password, meta)
	}
	return id.startSession(ctx, userID, tenantID, role, meta)
}

// memberRole returns userID's role in tenantID; a non-member (or a tenant
// that does not exist) is ErrBadCredentials.
func (id *Identity) memberRole(ctx context.Context, tenantID, userID string) (domain.Role, error) {
	var tenant domain.Tenant
	if err := id.load(ctx, domain.StreamTenant, tenantID, &tenant); err != nil {
		return "", err
	}
	role, ok := tenant.Role(userID)
	if !ok {
		return "", ErrBadCredentials
	}
	return role, nil
}

// rehash stores the password hashed with the current parameters. A failure
// only costs a rehash at the next login, so it is logged, not returned.
func (id *Identity) rehash(ctx context.Context, user *domain.User, userID, password string, meta domain.Metadata) {
	hash, err := id.hashPassword(ctx, password)
	if err == nil {
		stream := eventstore.Stream{ID: userID, Type: domain.StreamUser, TenantID: user.HomeTenantID()}
		err = id.appendOne(ctx, stream, user.Seq(), &domain.UserPasswordChanged{PasswordHash: hash}, meta)
	}
	if err != nil {
		id.cfg.Logger.WarnContext(ctx, "identity: could not store a stronger password hash", "user_id", userID, "err", err)
	}
}

// startSession appends session.started to a new session stream and issues
// the session's first refresh token and an access token.
func (id *Identity) startSession(ctx context.Context, userID, tenantID string, role domain.Role, meta domain.Metadata) (Tokens, error) {
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
		ExpiresAt: domain.FormatTime(id.cfg.NowFunc().Add(id.cfg.SessionTTL)),
		TokenHash: hexHash(hash),
		UserID:    userID,
	}
	if err := id.appendOne(ctx, stream, 0, started, meta); err != nil {
		return Tokens{}, fmt.Errorf("start session: %w", err)
	}
	return id.issue(userID, tenantID, role, refresh)
}

// issue signs an access token to go with a refresh token.
func (id *Identity) issue(userID, tenantID string, role domain.Role, refresh string) (Tokens, error) {
	access, exp, err := id.cfg.Issuer.Issue(userID, tenantID, role)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{
		AccessToken:  access,
		RefreshToken: refresh,
		ExpiresIn:    int64(math.Round(exp.Sub(id.cfg.NowFunc()).Seconds())),
		UserID:       userID,
		TenantID:     tenantID,
		Role:         role,
	}, nil
}
