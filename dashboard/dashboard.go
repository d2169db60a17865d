package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is the policy of every dashboard answer: scripts,
// styles and connections from the dashboard's own origin only (no inline
// script or style), forms posted to it only, and never in a frame.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// APIPrefix is where the pages' scripts reach the API: /dashboard/api/X is
// the API's /X, called with the session's access token.
const APIPrefix = "/dashboard/api"

// refreshMargin is how long before its access token expires a session is
// refreshed.
const refreshMargin = 10 * time.Second

// Config configures the handler New returns.
type Config struct {
	// API is the task API's handler (readapi.New's), which serves the
	// dashboard's calls and every path that is not the dashboard's;
	// required.
	API http.Handler
	// SessionKey seals the session cookie: 32 bytes, secret (derive it
	// from the token secret with auth.DashboardSessionKey); required.
	SessionKey []byte
	// Secure marks the cookie Secure (serve, behind HTTPS); dev serves
	// plain HTTP on the loopback and leaves it off.
	Secure bool
	// Stripe offers the owners Stripe Checkout and the Customer Portal on
	// the usage page: set it when the API's Stripe billing is on.
	Stripe bool
	// Logger logs what fails inside the dashboard (default slog.Default).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OAuth, when set, adds the consent page of MCP clients' sign-in
	// (/oauth/authorize) and the connected applications page (/apps).
	OAuth OAuth
}

// dashboard serves the pages.
type dashboard struct {
	api     http.Handler
	cookies *sealer
	pages   map[string]*template.Template
	logger  *slog.Logger
	now     func() time.Time
	refresh refresher
	stripe  bool
	oauth   OAuth
}

// New returns the dashboard's handler: its pages at /, /login, /register,
// /tasks/…, /keys, /members, /secrets, /webhooks, /usage, its assets under /static/, and everything else passed to
// cfg.API unchanged.
func New(cfg Config) (http.Handler, error) {
	if cfg.API == nil {
		return nil, errors.New("dashboard: Config.API is required")
	}
	cookies, err := newSealer(cfg.SessionKey, cfg.Secure)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	d := &dashboard{api: cfg.API, cookies: cookies, pages: pages, logger: cfg.Logger, now: cfg.Now, stripe: cfg.Stripe, oauth: cfg.OAuth}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.refresh.entries = map[string]refreshed{}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}

	r := chi.NewRouter()
	r.NotFound(d.passOn)
	r.MethodNotAllowed(d.passOn)
	r.With(securityHeaders).Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(static)))
	r.Group(func(r chi.Router) {
		r.Use(securityHeaders, http.NewCrossOriginProtection().Handler, d.withSession)
		r.Get("/login", d.loginPage)
		r.Post("/login", d.login)
		r.Get("/register", d.registerPage)
		r.Post("/register", d.register)
		r.Post("/logout", d.logout)
		r.Group(func(r chi.Router) {
			r.Use(d.signedIn)
			r.Get("/", d.tasksPage)
			r.Get("/tasks/new", d.newTaskPage)
			r.Post("/tasks", d.startTask)
			r.Get("/tasks/{id}", d.taskPage)
			r.Post("/tasks/{id}/cancel", d.cancelTask)
			r.Post("/tasks/{id}/again", d.startAgain)
			r.Get("/keys", d.keysPage)
			r.Post("/keys", d.createKey)
			r.Post("/keys/{id}/revoke", d.revokeKey)
			d.settingsRoutes(r)
			r.Handle(APIPrefix+"/*", http.HandlerFunc(d.proxy))
			if d.oauth != nil {
				d.oauthRoutes(r)
			}
		})
	})
	return r, nil
}

// securityHeaders sets the headers of every dashboard answer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// ctxKey keys the request's state in its context.
type ctxKey struct{}

// reqState is a dashboard request's session and its API client.
type reqState struct {
	s *session
	c *client.Client
}

// state returns r's session and client (see withSession).
func state(r *http.Request) *reqState { return r.Context().Value(ctxKey{}).(*reqState) }

// withSession opens the request's session (refreshing its access token
// when it is about to expire), refuses a state-changing request without
// the session's CSRF token, and gives the handlers an API client with the
// session's credential.
func (d *dashboard) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, opened := d.cookies.open(r)
		dirty := !opened
		if s.signedIn() && time.Unix(s.Expires, 0).Before(d.now().Add(refreshMargin)) {
			d.refreshSession(r, s)
			dirty = true
		}
		if dirty {
			d.cookies.save(w, s)
		}
		st := &reqState{s: s, c: d.client(r, s.Access)}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if !s.checkCSRF(r) {
				d.render(w, r, http.StatusForbidden, "error", errorPage{Title: "Request refused",
					Message: "This form is stale or was sent from another site. Reload the page and try again."})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a form the dashboard reads.
const maxFormBytes = 128 << 10

// client returns an API client that calls the API in this process as r's
// browser, with the bearer token (none when empty).
func (d *dashboard) client(r *http.Request, token string) *client.Client {
	opts := []client.Option{client.WithHTTPClient(&http.Client{Transport: inProcess{api: d.api, remoteAddr: r.RemoteAddr}})}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	c, err := client.New("http://"+r.Host, opts...)
	if err != nil { // a Host the server accepted but a URL cannot hold
		c, _ = client.New("http://localhost", opts...)
	}
	return c
}

// signedIn sends a browser without a signed-in session to /login, with
// the page it asked for as next.
func (d *dashboard) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if state(r).s.signedIn() {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		target := "/login"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// refresher refreshes sessions once per refresh token: each refresh token
// works once, so requests of one browser that find the access token
// expiring at the same moment share the one refresh (within this process).
type refresher struct {
	mu      sync.Mutex
	entries map[string]refreshed
}

// refreshKept is how long a refresh's outcome is kept for the requests
// that come with the same refresh token.
const refreshKept = 10 * time.Second

// refreshed is a refresh's outcome, kept for refreshKept.
type refreshed struct {
	tok api.Tokens
	err error
	at  time.Time
}

// refreshSession exchanges s's refresh token for new tokens, or signs s out
// when the API refuses it.
func (d *dashboard) refreshSession(r *http.Request, s *session) {
	now := d.now()
	d.refresh.mu.Lock()
	defer d.refresh.mu.Unlock()
	for k, e := range d.refresh.entries {
		if now.Sub(e.at) > refreshKept {
			delete(d.refresh.entries, k)
		}
	}
	e, ok := d.refresh.entries[s.Refresh]
	if !ok {
		tok, err := d.client(r, "").Refresh(r.Context(), s.Refresh)
		e = refreshed{tok: tok, err: err, at: now}
		d.refresh.entries[s.Refresh] = e
	}
	if e.err != nil {
		d.logger.InfoContext(r.Context(), "dashboard session ends: refresh refused", "error", e.err)
		*s = session{CSRF: s.CSRF}
		return
	}
	csrf := s.CSRF
	s.signIn(e.tok, s.Email, now)
	s.CSRF = csrf // the pages open in the browser keep working
}

// forget drops the kept refreshes that led, one after the other, to the
// refresh token: after a sign-out, an older copy of the session's cookie
// must not get the tokens it was refreshed to.
func (rf *refresher) forget(refreshToken string) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	for target, found := refreshToken, true; found; {
		found = false
		for k, e := range rf.entries {
			if e.err == nil && e.tok.RefreshToken == target {
				delete(rf.entries, k)
				target, found = k, true
				break
			}
		}
	}
}

// proxy forwards /dashboard/api/X to the API's /X with the session's
// access token: the pages' scripts read streams and lists through it. An
// answer lasts no longer than that token: a stream ends when it expires,
// and the browser's EventSource, reconnecting where it was, comes through
// the session again, which refreshes it or, once it has ended, refuses.
func (d *dashboard) proxy(w http.ResponseWriter, r *http.Request) {
	s := state(r).s
	ctx, cancel := context.WithTimeout(r.Context(), time.Unix(s.Expires, 0).Sub(d.now()))
	defer cancel()
	r2 := detached(r.WithContext(ctx))
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, APIPrefix)
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Cookie")
	r2.Header.Set("Authorization", "Bearer "+s.Access)
	d.api.ServeHTTP(w, r2)
}

// passOn serves a path that is not the dashboard's with the API.
func (d *dashboard) passOn(w http.ResponseWriter, r *http.Request) { d.api.ServeHTTP(w, detached(r)) }

// detached returns a copy of r without the dashboard router's routing
// state, which the API's router would otherwise take for its parent's.
func detached(r *http.Request) *http.Request {
	return r.Clone(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
}

// errorPage is the data of the error template.
type errorPage struct {
	Title, Message string
}

// fail renders what an API call's err means: the not-found page for a 404
// (another tenant's resource is one too), the sign-in page when the API no
// longer accepts the session, else the API's own explanation. A request the
// browser has left (it went to another page meanwhile) is answered with
// nothing, as the API answers it, and is no failure to log.
func (d *dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *client.APIError
	switch {
	case r.Context().Err() != nil:
	case errors.Is(err, client.ErrNotFound):
		d.notFound(w, r)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		s := state(r).s
		*s = session{CSRF: s.CSRF}
		d.cookies.save(w, s)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case errors.As(err, &apiErr):
		d.render(w, r, apiErr.Status, "error", errorPage{Title: apiErr.Title, Message: apiErr.Detail})
	default:
		d.logger.ErrorContext(r.Context(), "dashboard", "path", r.URL.Path, "error", err)
		d.render(w, r, http.StatusInternalServerError, "error", errorPage{Title: "Something went wrong", Message: "The server could not answer; try again."})
	}
}

// notFound renders the not-found page (404).
func (d *dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusNotFound, "error", errorPage{Title: "Not found",
		Message: "There is nothing here, or it belongs to another tenant."})
}

// problemMessage is what an API error says to a user filling in a form.
func problemMessage(err error) string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Detail != "" {
		return apiErr.Detail
	}
	return err.Error()
}

// statusOf is the HTTP status an API call's err answered (500 when it
// never reached an answer).
func statusOf(err error) int {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return http.StatusInternalServerError
}
