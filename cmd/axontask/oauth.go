package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/dashboard"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/oauth"
	"github.com/axontask/axontask/ratelimit"
)

// newOAuth returns the OAuth server that signs MCP clients in, on store,
// with identity's access tokens and users, its registrations rate limited
// by limiter. PUBLIC_URL pins its URL; without it each request's own is
// used, with X-Forwarded-Proto read when behindProxy (serve).
func newOAuth(store eventstore.OAuthStore, identity *commands.IdentitySide, limiter ratelimit.Limiter, behindProxy bool, logger *slog.Logger) (*oauth.Server, error) {
	s, err := oauth.New(oauth.Config{
		Store: store, Issuer: identity.Issuer, Members: identity.Authenticator, PublicURL: os.Getenv("PUBLIC_URL"),
		TrustProxy: behindProxy, Limiter: limiter, Logger: logger,
	})
	if err != nil {
		return nil, usageError(fmt.Sprintf("PUBLIC_URL: %v", err))
	}
	return s, nil
}

// dashboardOAuth fronts the OAuth server for the dashboard's pages, which
// know only the API's wire types and their own.
type dashboardOAuth struct{ s *oauth.Server }

// Authorize implements dashboard.OAuth.
func (o dashboardOAuth) Authorize(r *http.Request) (dashboard.Consent, error) {
	req, err := o.check(r)
	if err != nil {
		return dashboard.Consent{}, err
	}
	return dashboard.Consent{ClientName: req.ClientName, RedirectURI: req.RedirectURI, Scopes: req.Scopes(), Resource: req.Resource}, nil
}

// Approve implements dashboard.OAuth.
func (o dashboardOAuth) Approve(r *http.Request, sessionToken string) (string, error) {
	req, err := o.check(r)
	if err != nil {
		return "", err
	}
	return o.s.Approve(r.Context(), sessionToken, req)
}

// Deny implements dashboard.OAuth.
func (o dashboardOAuth) Deny(r *http.Request) (string, error) {
	req, err := o.check(r)
	if err != nil {
		return "", err
	}
	return o.s.Deny(req), nil
}

// check checks r's authorization request, turning a refusal into the
// dashboard's.
func (o dashboardOAuth) check(r *http.Request) (oauth.AuthorizeRequest, error) {
	req, err := o.s.Check(r)
	var refusal *oauth.AuthorizeError
	if errors.As(err, &refusal) {
		return req, &dashboard.OAuthRefusal{Redirect: refusal.Redirect, Message: refusal.Description}
	}
	return req, err
}

// Apps implements dashboard.OAuth.
func (o dashboardOAuth) Apps(ctx context.Context, sessionToken string) ([]dashboard.ConnectedApp, error) {
	grants, err := o.s.Grants(ctx, sessionToken)
	if err != nil {
		return nil, err
	}
	apps := make([]dashboard.ConnectedApp, len(grants))
	for i, g := range grants {
		apps[i] = dashboard.ConnectedApp{ID: g.ID, ClientName: g.ClientName, Scope: g.Scope, CreatedAt: g.CreatedAt}
	}
	return apps, nil
}

// RevokeApp implements dashboard.OAuth.
func (o dashboardOAuth) RevokeApp(ctx context.Context, sessionToken, id string) (bool, error) {
	return o.s.Revoke(ctx, sessionToken, id)
}
