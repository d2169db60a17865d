package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// token answers the token endpoint: authorization_code (with PKCE) and
// refresh_token (rotating), for public clients.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded, at most 16 KiB")
		return
	}
	var g eventstore.OAuthGrant
	var refresh string
	var failure *tokenError
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, refresh, failure = s.redeemCode(r)
	case "refresh_token":
		g, refresh, failure = s.rotateRefresh(r)
	default:
		failure = &tokenError{http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token", nil}
	}
	if failure == nil {
		failure = s.issueTokens(r.Context(), w, g, refresh)
	}
	if failure != nil {
		if failure.err != nil {
			s.logger.ErrorContext(r.Context(), "oauth: token", "err", failure.err)
		}
		writeError(w, failure.status, failure.code, failure.desc)
	}
}

// tokenError is a refusal of the token endpoint; err, when set, is a
// failure of the server's, logged.
type tokenError struct {
	status     int
	code, desc string
	err        error
}

// unavailable is the refusal when the store fails with err.
func unavailable(err error) *tokenError {
	return &tokenError{http.StatusServiceUnavailable, "temporarily_unavailable", "the server could not read its store; try again", err}
}

func invalidGrant(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", desc, nil}
}

// redeemCode exchanges an authorization code for the grant, once. A code
// that fails any check (client, redirect URI, PKCE verifier, resource) is
// spent and its grant revoked, so a stolen code cannot be tried twice.
func (s *Server) redeemCode(r *http.Request) (eventstore.OAuthGrant, string, *tokenError) {
	f := r.PostForm
	id, codeHash, err := auth.ParseRefreshToken(f.Get("code"))
	if err != nil {
		return eventstore.OAuthGrant{}, "", invalidGrant("code is not an authorization code of this server")
	}
	refresh, refreshHash, err := auth.NewRefreshToken(id)
	if err != nil {
		return eventstore.OAuthGrant{}, "", &tokenError{http.StatusInternalServerError, "server_error", "try again", err}
	}
	now := s.now().UTC()
	g, err := s.store.OAuthCodeRedeem(r.Context(), codeHash, refreshHash, now.Add(RefreshTTL), now)
	switch {
	case errors.Is(err, eventstore.ErrOAuthReplayed):
		return g, "", invalidGrant("the code was used before; the tokens issued from it are revoked. Authorize again")
	case errors.Is(err, eventstore.ErrOAuthNotFound):
		return g, "", invalidGrant("the code is unknown, expired (codes last " + CodeTTL.String() + ") or revoked; authorize again")
	case err != nil:
		return g, "", unavailable(err)
	}
	var refusal string
	switch {
	case g.ID != id.String() || f.Get("client_id") != g.ClientID:
		refusal = "the code was issued to another client_id"
	case f.Get("redirect_uri") != g.RedirectURI:
		refusal = "redirect_uri must be the one of the authorization request"
	case !validPKCE(f.Get("code_verifier")) || !pkceMatches(f.Get("code_verifier"), g.CodeChallenge):
		refusal = "code_verifier does not match the code_challenge (PKCE S256); the code is spent, authorize again"
	case f.Has("resource") && f.Get("resource") != g.Resource:
		refusal = "resource must be " + g.Resource + ", the resource the user authorized"
	}
	if refusal != "" {
		if _, err := s.store.OAuthGrantRevoke(r.Context(), g.ID, "", now); err != nil {
			s.logger.ErrorContext(r.Context(), "oauth: revoke a grant whose code was misused", "err", err)
		}
		return g, "", invalidGrant(refusal)
	}
	return g, refresh, nil
}

// rotateRefresh exchanges a refresh token for the grant and its next
// refresh token. A token rotated away before revokes the grant, and so
// does a refresh with another client_id or resource.
func (s *Server) rotateRefresh(r *http.Request) (eventstore.OAuthGrant, string, *tokenError) {
	f := r.PostForm
	id, oldHash, err := auth.ParseRefreshToken(f.Get("refresh_token"))
	if err != nil {
		return eventstore.OAuthGrant{}, "", invalidGrant("refresh_token is not a refresh token of this server")
	}
	refresh, newHash, err := auth.NewRefreshToken(id)
	if err != nil {
		return eventstore.OAuthGrant{}, "", &tokenError{http.StatusInternalServerError, "server_error", "try again", err}
	}
	now := s.now().UTC()
	g, err := s.store.OAuthRefreshRotate(r.Context(), id.String(), oldHash, newHash, now.Add(RefreshTTL), now)
	switch {
	case errors.Is(err, eventstore.ErrOAuthReplayed):
		return g, "", invalidGrant("the refresh token was used before, so it may have leaked: this authorization is revoked. Authorize again")
	case errors.Is(err, eventstore.ErrOAuthNotFound):
		return g, "", invalidGrant("the refresh token is unknown, expired or revoked; authorize again")
	case err != nil:
		return g, "", unavailable(err)
	}
	// The token is rotated away already and its successor never sent, so
	// a refusal ends the grant: revoke it, as for a misused code, so that
	// the dashboard no longer lists it.
	var refusal *tokenError
	switch {
	case f.Get("client_id") != g.ClientID:
		refusal = invalidGrant("the refresh token was issued to another client_id; this authorization is revoked. Authorize again")
	case f.Has("resource") && f.Get("resource") != g.Resource:
		refusal = &tokenError{http.StatusBadRequest, "invalid_target", "resource must be " + g.Resource + ", the resource the user authorized; this authorization is revoked. Authorize again", nil}
	}
	if refusal != nil {
		if _, err := s.store.OAuthGrantRevoke(r.Context(), g.ID, "", now); err != nil {
			s.logger.ErrorContext(r.Context(), "oauth: revoke a grant whose refresh token was misused", "err", err)
		}
		return g, "", refusal
	}
	return g, refresh, nil
}

// Members tells the user's role in a tenant now (commands.Authenticator).
type Members interface {
	// MemberRole returns userID's role in tenantID, failing for a
	// non-member.
	MemberRole(ctx context.Context, tenantID, userID string) (domain.Role, error)
}

// issueTokens answers a new access token for g, bound to its resource,
// with refresh, after checking the user is still a member of the tenant.
func (s *Server) issueTokens(ctx context.Context, w http.ResponseWriter, g eventstore.OAuthGrant, refresh string) *tokenError {
	role, err := s.members.MemberRole(ctx, g.TenantID, g.UserID)
	if err != nil {
		if _, rerr := s.store.OAuthGrantRevoke(ctx, g.ID, "", s.now().UTC()); rerr != nil {
			s.logger.ErrorContext(ctx, "oauth: revoke the grant of a former member", "err", rerr)
		}
		return invalidGrant("the user who authorized this client is no longer a member of the tenant")
	}
	access, expires, err := s.issuer.IssueDelegated(g.UserID, g.TenantID, role, auth.Delegation{Audience: g.Resource, ClientID: g.ClientID, Scope: g.Scope, GrantID: g.ID})
	if err != nil {
		return &tokenError{http.StatusInternalServerError, "server_error", "try again", err}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    int(time.Until(expires).Round(time.Second) / time.Second),
		"refresh_token": refresh,
		"scope":         g.Scope,
	})
	return nil
}

// pkceMatches reports whether verifier's S256 transform is challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// revoke answers RFC 7009 revocation: a grant's current refresh token
// revokes the grant (its whole family). The token must be the grant's
// current one, not just name it: the grant id is no secret (it opens every
// token of the family and the Connected apps page shows it). Any other
// token (made up, rotated away, an access token, which is a short-lived
// JWT that ends at its expiry) answers 200 and revokes nothing, as the RFC
// has it for a token the server does not know.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded with token")
		return
	}
	if id, hash, err := auth.ParseRefreshToken(r.PostForm.Get("token")); err == nil && id != uuid.Nil {
		if _, err := s.store.OAuthRefreshRevoke(r.Context(), id.String(), hash, s.now().UTC()); err != nil {
			s.logger.ErrorContext(r.Context(), "oauth: revoke", "err", err)
			writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
