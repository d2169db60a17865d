package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/dashboard"
	"github.com/axontask/axontask/oauth"
)

// withDashboard serves the web dashboard at / in front of api, which
// serves every other path and the dashboard's own calls; its session
// cookies are sealed with a key derived from secret (the token secret),
// and Secure when secure (serve); stripe offers Stripe Checkout and the
// portal (the API's Stripe billing is on); it serves oauthServer's
// consent page.
func withDashboard(api http.Handler, secret []byte, secure, stripe bool, oauthServer *oauth.Server, logger *slog.Logger) (http.Handler, error) {
	key, err := auth.DashboardSessionKey(secret)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return dashboard.New(dashboard.Config{API: api, SessionKey: key, Secure: secure, Stripe: stripe, Logger: logger, OAuth: dashboardOAuth{oauthServer}})
}
