package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/eventstore"
)

// AuthorizeRequest is an authorization request Check accepted: what the
// consent page shows and Approve grants.
type AuthorizeRequest struct {
	ClientID      string
	ClientName    string
	RedirectURI   string
	Scope         string
	State         string
	CodeChallenge string
	// Resource is what the tokens will be bound to (this server's /mcp as
	// the request reached it) and Issuer the server's URL.
	Resource string
	Issuer   string
}

// Scopes returns the requested scopes, for the consent page.
func (a AuthorizeRequest) Scopes() []string { return strings.Fields(a.Scope) }

// AuthorizeError is an authorization request Check refused. When the
// client or its redirect URI cannot be trusted, Redirect is empty and the
// page shows Description and never redirects (RFC 6749 section 4.1.2.1);
// otherwise Redirect sends the error back to the client.
type AuthorizeError struct {
	Redirect    string
	Description string
}

func (e *AuthorizeError) Error() string { return e.Description }

// Check checks an authorization request's parameters (the query of
// /oauth/authorize): a registered client and one of its redirect URIs
// (on any port, for a loopback one: see redirectRegistered),
// response_type code, a PKCE S256 challenge, known scopes and, when given,
// this server's resource. Every refusal is an *AuthorizeError.
func (s *Server) Check(r *http.Request) (AuthorizeRequest, error) {
	ctx, q := r.Context(), r.URL.Query()
	c, err := s.store.OAuthClientGet(ctx, q.Get("client_id"))
	switch {
	case errors.Is(err, eventstore.ErrOAuthNotFound):
		return AuthorizeRequest{}, &AuthorizeError{Description: "The application's client_id is not registered here. Ask its maker, or register it again (POST " + RegisterPath + ")."}
	case err != nil:
		return AuthorizeRequest{}, fmt.Errorf("authorize: %w", err)
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(c.RedirectURIs) == 1 {
		redirect = c.RedirectURIs[0]
	}
	if !redirectRegistered(c.RedirectURIs, redirect) {
		return AuthorizeRequest{}, &AuthorizeError{Description: "The redirect_uri is not one the application registered, so AxonTask will not send you there."}
	}
	req := AuthorizeRequest{ClientID: c.ID, ClientName: c.Name, RedirectURI: redirect, State: q.Get("state"), CodeChallenge: q.Get("code_challenge"),
		Resource: s.Resource(r), Issuer: s.baseOf(r)}
	refuse := func(code, desc string) (AuthorizeRequest, error) {
		return AuthorizeRequest{}, &AuthorizeError{Redirect: s.redirect(req, url.Values{"error": {code}, "error_description": {desc}}), Description: desc}
	}
	if len(req.State) > MaxStateLen {
		req.State = ""
		return refuse("invalid_request", fmt.Sprintf("state is longer than %d bytes", MaxStateLen))
	}
	switch {
	case q.Get("response_type") != "code":
		return refuse("unsupported_response_type", "response_type must be code")
	case q.Get("code_challenge_method") != "S256" || !validPKCE(req.CodeChallenge):
		return refuse("invalid_request", "PKCE is required: send code_challenge (43 base64url characters) and code_challenge_method=S256")
	case q.Has("resource") && q.Get("resource") != req.Resource:
		return refuse("invalid_target", "resource must be "+req.Resource+", the only resource this server grants")
	}
	if req.Scope, err = parseScope(q.Get("scope")); err != nil {
		return refuse("invalid_scope", err.Error())
	}
	return req, nil
}

// Approve records that the user signed in to the dashboard with
// sessionToken (an access token of the API) grants req, and returns where
// to send the browser: the client's redirect URI with a one-time code.
func (s *Server) Approve(ctx context.Context, sessionToken string, req AuthorizeRequest) (string, error) {
	claims, err := s.issuer.Verify(sessionToken)
	if err != nil {
		return "", fmt.Errorf("approve: %w", err)
	}
	id := uuid.New()
	code, hash, err := auth.NewRefreshToken(id)
	if err != nil {
		return "", fmt.Errorf("approve: %w", err)
	}
	now := s.now().UTC()
	g := eventstore.OAuthGrant{ID: id.String(), TenantID: claims.TenantID, UserID: claims.UserID, ClientID: req.ClientID, Scope: req.Scope,
		Resource: req.Resource, RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge, CreatedAt: now}
	if err := s.store.OAuthGrantCreate(ctx, g, hash, now.Add(CodeTTL)); err != nil {
		return "", fmt.Errorf("approve: %w", err)
	}
	return s.redirect(req, url.Values{"code": {code}}), nil
}

// Deny returns where to send the browser when the user refuses req.
func (s *Server) Deny(req AuthorizeRequest) string {
	return s.redirect(req, url.Values{"error": {"access_denied"}, "error_description": {"the user refused"}})
}

// redirect returns req's redirect URI with params, req's state and the
// issuer (RFC 9207) added to its query.
func (s *Server) redirect(req AuthorizeRequest, params url.Values) string {
	u, _ := url.Parse(req.RedirectURI) // checked at registration
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", req.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// Grants returns the grants in force of the user signed in with
// sessionToken: the clients they authorized.
func (s *Server) Grants(ctx context.Context, sessionToken string) ([]eventstore.OAuthGrant, error) {
	claims, err := s.issuer.Verify(sessionToken)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return s.store.OAuthGrantList(ctx, claims.UserID, s.now().UTC())
}

// Revoke revokes grant id of the user signed in with sessionToken; a grant
// that is not theirs (or not in force) is false.
func (s *Server) Revoke(ctx context.Context, sessionToken, id string) (bool, error) {
	claims, err := s.issuer.Verify(sessionToken)
	if err != nil {
		return false, fmt.Errorf("revoke grant: %w", err)
	}
	return s.store.OAuthGrantRevoke(ctx, id, claims.UserID, s.now().UTC())
}

// validPKCE reports whether v is 43 to 128 characters of RFC 7636's
// unreserved set: a code verifier, or an S256 challenge (43).
func validPKCE(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	return !strings.ContainsFunc(v, func(c rune) bool { return !strings.ContainsRune(unreserved, c) })
}

// redirectRegistered reports whether uri is one of registered, exactly,
// or, for an http loopback one, on another port: a desktop client listens
// on whatever port is free at sign-in, and RFC 8252 section 7.3 (and OAuth
// 2.1) has the server accept any port for a loopback redirect URI. The
// scheme, host, path and query must still match.
func redirectRegistered(registered []string, uri string) bool {
	if slices.Contains(registered, uri) {
		return true
	}
	if checkRedirectURI(uri) != nil {
		return false
	}
	u, _ := url.Parse(uri) // checked
	if u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return false
	}
	return slices.ContainsFunc(registered, func(s string) bool {
		r, err := url.Parse(s)
		return err == nil && r.Scheme == u.Scheme && r.Hostname() == u.Hostname() && r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery
	})
}
