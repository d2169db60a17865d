package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// layoutData is what the layout template sees.
type layoutData struct {
	// Title is the page's title.
	Title string
	// Email is the signed-in user's, empty when nobody is signed in.
	Email string
	// CSRF is the session's CSRF token, for every form.
	CSRF string
	// Nav is the page's entry in the navigation ("tasks", "new", "keys").
	Nav string
	// Role is the signed-in user's role, which chooses the navigation's
	// entries (see Can).
	Role domain.Role
	// OAuth says the connected applications page is served (Config.OAuth),
	// so the navigation leads to it.
	OAuth bool
	// Page is the page's own data.
	Page any
}

// Can reports whether the signed-in user's role may take action a: the
// navigation shows a page only to those who may use it.
func (ld layoutData) Can(a domain.Action) bool { return ld.Role.Can(a) }

// titled is page data that names its page's title and navigation entry.
type titled interface {
	title() string
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when": func(t api.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"iso": func(t api.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join":  func(v any) string { return strings.Trim(fmt.Sprint(v), "[]") },
	"money": money,
	"count": count,
	"lastAttempt": func(as []api.WebhookAttempt) *api.WebhookAttempt {
		if len(as) == 0 {
			return nil
		}
		return &as[len(as)-1]
	},
	"excerpt": func(s string) string {
		if r := []rune(s); len(r) > excerptRunes {
			return string(r[:excerptRunes]) + "…"
		}
		return s
	},
}

// excerptRunes is how much of a webhook receiver's answer the delivery log
// shows.
const excerptRunes = 160

// parsePages parses every page of templates/ with the layout: a page is
// templates/<name>.html defining "content" (and optionally "rows").
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("dashboard: parse %s: %w", name, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes page with data into the layout, with status.
func (d *dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	st := state(r)
	ld := layoutData{CSRF: st.s.CSRF, Page: data, Nav: page, OAuth: d.oauth != nil}
	if st.s.signedIn() {
		ld.Email, ld.Role = st.s.Email, st.s.Role
	}
	if t, ok := data.(titled); ok {
		ld.Title = t.title()
	}
	d.execute(w, r, status, page, "layout.html", ld)
}

// execute runs the template named tmpl of page with data and writes it
// with status; a failure is logged and answered 500 before any byte goes
// out.
func (d *dashboard) execute(w http.ResponseWriter, r *http.Request, status int, page, tmpl string, data any) {
	var buf bytes.Buffer
	if err := d.pages[page].ExecuteTemplate(&buf, tmpl, data); err != nil {
		d.logger.ErrorContext(r.Context(), "dashboard: render", "page", page, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// title implements titled.
func (p errorPage) title() string { return p.Title }
