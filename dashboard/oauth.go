package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// OAuth is the authorization server whose consent page (/oauth/authorize)
// and connected applications page (/apps) the dashboard serves for the
// signed-in user. sessionToken is the session's access token of the API,
// which tells the server who the user is.
type OAuth interface {
	// Authorize checks r's authorization request (its query) and returns
	// what the consent page shows; a refusal is an *OAuthRefusal.
	Authorize(r *http.Request) (Consent, error)
	// Approve grants r's authorization request (checked again) and
	// returns where to send the browser: the client, with a code.
	Approve(r *http.Request, sessionToken string) (string, error)
	// Deny returns where to send the browser when the user refuses r's
	// request.
	Deny(r *http.Request) (string, error)
	// Apps lists the clients the user authorized, in force.
	Apps(ctx context.Context, sessionToken string) ([]ConnectedApp, error)
	// RevokeApp revokes one of them; false when it is not the user's.
	RevokeApp(ctx context.Context, sessionToken, id string) (bool, error)
}

// Consent is what the consent page shows of an authorization request.
type Consent struct {
	ClientName  string
	RedirectURI string
	Scopes      []string
	Resource    string
}

// ConnectedApp is a client the user authorized.
type ConnectedApp struct {
	ID         string
	ClientName string
	Scope      string
	CreatedAt  time.Time
}

// OAuthRefusal is an authorization request OAuth refused: the browser goes
// back to the client with the error at Redirect or, when Redirect is empty
// (the client or its redirect URI are not to be trusted), the page shows
// Message.
type OAuthRefusal struct {
	Redirect string
	Message  string
}

func (e *OAuthRefusal) Error() string { return e.Message }

// consentPage is the data of the consent template.
type consentPage struct {
	Consent
	// Action is where the form posts: this request again.
	Action string
}

// title implements titled.
func (consentPage) title() string { return "Authorize an application" }

// appsPage is the data of the apps template.
type appsPage struct{ Apps []ConnectedApp }

// title implements titled.
func (appsPage) title() string { return "Connected applications" }

// oauthRoutes registers the consent and connected applications pages on
// r, whose requests are signed in.
func (d *dashboard) oauthRoutes(r chi.Router) {
	r.Get("/oauth/authorize", d.consentPage)
	r.Post("/oauth/authorize", d.consent)
	r.Get("/apps", d.appsPage)
	r.Post("/apps/{id}/revoke", d.revokeApp)
}

// consentPage shows the client and the scopes it asks for, with approve
// and deny.
func (d *dashboard) consentPage(w http.ResponseWriter, r *http.Request) {
	c, err := d.oauth.Authorize(r)
	if d.oauthRefused(w, r, err) {
		return
	}
	// The answer to the form redirects to the client: the policy must
	// allow it as a form's target.
	if u, err := url.Parse(c.RedirectURI); err == nil {
		w.Header().Set("Content-Security-Policy", strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1))
	}
	d.render(w, r, http.StatusOK, "consent", consentPage{Consent: c, Action: r.URL.RequestURI()})
}

// consent answers the consent form: approve or deny, then back to the
// client.
func (d *dashboard) consent(w http.ResponseWriter, r *http.Request) {
	var target string
	var err error
	if r.PostFormValue("decision") == "approve" {
		target, err = d.oauth.Approve(r, state(r).s.Access)
	} else {
		target, err = d.oauth.Deny(r)
	}
	if d.oauthRefused(w, r, err) {
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// oauthRefused answers a refusal or failure of OAuth, and reports whether
// there was one.
func (d *dashboard) oauthRefused(w http.ResponseWriter, r *http.Request, err error) bool {
	var refusal *OAuthRefusal
	switch {
	case err == nil:
		return false
	case errors.As(err, &refusal) && refusal.Redirect != "":
		http.Redirect(w, r, refusal.Redirect, http.StatusSeeOther)
	case errors.As(err, &refusal):
		d.render(w, r, http.StatusBadRequest, "error", errorPage{Title: "Authorization refused", Message: refusal.Message})
	default:
		d.fail(w, r, err)
	}
	return true
}

// appsPage lists the applications the user authorized.
func (d *dashboard) appsPage(w http.ResponseWriter, r *http.Request) {
	apps, err := d.oauth.Apps(r.Context(), state(r).s.Access)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "apps", appsPage{Apps: apps})
}

// revokeApp revokes an application's authorization: its refresh token
// stops at once, its access token at its expiry.
func (d *dashboard) revokeApp(w http.ResponseWriter, r *http.Request) {
	ok, err := d.oauth.RevokeApp(r.Context(), state(r).s.Access, chi.URLParam(r, "id"))
	switch {
	case err != nil:
		d.fail(w, r, err)
	case !ok:
		d.notFound(w, r)
	default:
		http.Redirect(w, r, "/apps", http.StatusSeeOther)
	}
}
