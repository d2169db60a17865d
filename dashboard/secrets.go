package dashboard

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/api"
)

// secretsPage is the data of the secrets template: names only, never a
// value.
type secretsPage struct {
	Secrets []api.Secret
	// Set is the secret just created or rotated.
	Set   *api.Secret
	Name  string
	Error string
}

// title implements titled.
func (secretsPage) title() string { return "Secrets" }

// secretsPage lists the tenant's secrets by name.
func (d *dashboard) secretsPage(w http.ResponseWriter, r *http.Request) {
	d.showSecrets(w, r, http.StatusOK, secretsPage{})
}

// showSecrets renders the secrets page p with the tenant's secrets.
func (d *dashboard) showSecrets(w http.ResponseWriter, r *http.Request, status int, p secretsPage) {
	secrets, err := state(r).c.ListSecrets(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	p.Secrets = secrets
	d.render(w, r, status, "secrets", p)
}

// setSecret creates a secret or rotates its value. The value goes to the
// API and nowhere else: the page shows the name alone.
func (d *dashboard) setSecret(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	secret, err := state(r).c.SetSecret(r.Context(), name, r.PostFormValue("value"))
	if err != nil {
		d.showSecrets(w, r, statusOf(err), secretsPage{Name: name, Error: problemMessage(err)})
		return
	}
	d.showSecrets(w, r, http.StatusOK, secretsPage{Set: &secret})
}

// deleteSecret deletes a secret.
func (d *dashboard) deleteSecret(w http.ResponseWriter, r *http.Request) {
	if err := state(r).c.DeleteSecret(r.Context(), chi.URLParam(r, "name")); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/secrets", http.StatusSeeOther)
}
