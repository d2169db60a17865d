package dashboard

import (
	"net/http"
	"strings"

	"github.com/axontask/axontask/api"
)

// signInPage is the data of the login and register templates.
type signInPage struct {
	Email, TenantName, Next, Error string
	// TenantID, when set, is the tenant to sign in to other than the
	// user's own (one whose invitation they accepted).
	TenantID string
}

// title implements titled.
func (p signInPage) title() string { return "Sign in" }

// loginPage shows the sign-in form.
func (d *dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d.render(w, r, http.StatusOK, "login", signInPage{Next: safeNext(q.Get("next")), TenantID: q.Get("tenant")})
}

// login signs the user in with the API's login (its per-address limit
// applies: the call comes from the browser's address) and keeps the tokens
// in the session.
func (d *dashboard) login(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	next, tenant := safeNext(r.PostFormValue("next")), r.PostFormValue("tenant_id")
	tok, err := state(r).c.Login(r.Context(), api.LoginRequest{Email: email, Password: r.PostFormValue("password"), TenantID: tenant})
	if err != nil {
		d.render(w, r, statusOf(err), "login", signInPage{Email: email, Next: next, TenantID: tenant, Error: problemMessage(err)})
		return
	}
	d.signIn(w, r, tok, email, next)
}

// registerPage shows the registration form.
func (d *dashboard) registerPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, "register", signInPage{})
}

// register creates a user and their tenant with the API's register (where
// the API allows it) and signs them in.
func (d *dashboard) register(w http.ResponseWriter, r *http.Request) {
	p := signInPage{Email: strings.TrimSpace(r.PostFormValue("email")), TenantName: strings.TrimSpace(r.PostFormValue("tenant_name"))}
	tok, err := state(r).c.Register(r.Context(), api.RegisterRequest{Email: p.Email, Password: r.PostFormValue("password"), TenantName: p.TenantName})
	if err != nil {
		p.Error = problemMessage(err)
		d.render(w, r, statusOf(err), "register", p)
		return
	}
	d.signIn(w, r, tok, p.Email, "/")
}

// signIn keeps tok in the session and sends the browser to next.
func (d *dashboard) signIn(w http.ResponseWriter, r *http.Request, tok api.Tokens, email, next string) {
	s := state(r).s
	s.signIn(tok, email, d.now())
	d.cookies.save(w, s)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout revokes the session's refresh token with the API's logout and
// forgets the tokens.
func (d *dashboard) logout(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if st.s.signedIn() {
		d.refresh.forget(st.s.Refresh)
		if err := st.c.Logout(r.Context(), st.s.Refresh); err != nil {
			d.logger.InfoContext(r.Context(), "dashboard: logout", "error", err)
		}
	}
	*st.s = session{CSRF: newCSRF()}
	d.cookies.save(w, st.s)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "/": a
// sign-in never sends the browser elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
