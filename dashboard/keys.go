package dashboard

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// keysPage is the data of the keys template.
type keysPage struct {
	Keys []api.Key
	// Created is the key just created, with its plaintext: shown once.
	Created *api.Key
	Scopes  []domain.Scope
	Name    string
	Error   string
}

// title implements titled.
func (keysPage) title() string { return "API keys" }

// allScopes are the scopes a key may be given.
var allScopes = []domain.Scope{domain.ScopeTasksRead, domain.ScopeTasksWrite, domain.ScopeAdmin}

// keysPage lists the tenant's API keys.
func (d *dashboard) keysPage(w http.ResponseWriter, r *http.Request) {
	d.showKeys(w, r, http.StatusOK, keysPage{})
}

// showKeys renders the keys page p with the tenant's keys.
func (d *dashboard) showKeys(w http.ResponseWriter, r *http.Request, status int, p keysPage) {
	keys, err := state(r).c.ListAPIKeys(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	p.Keys, p.Scopes = keys, allScopes
	d.render(w, r, status, "keys", p)
}

// createKey creates an API key and shows its plaintext, once.
func (d *dashboard) createKey(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	var scopes []domain.Scope
	for _, s := range r.PostForm["scopes"] {
		scopes = append(scopes, domain.Scope(s))
	}
	key, err := state(r).c.CreateAPIKey(r.Context(), name, scopes)
	if err != nil {
		d.showKeys(w, r, statusOf(err), keysPage{Name: name, Error: problemMessage(err)})
		return
	}
	d.showKeys(w, r, http.StatusOK, keysPage{Created: &key})
}

// revokeKey revokes an API key.
func (d *dashboard) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := state(r).c.RevokeAPIKey(r.Context(), chi.URLParam(r, "id")); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/keys", http.StatusSeeOther)
}
