package readapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// The tenant secrets' calls (serveJSON): New's routes say who may call
// each and with which status it answers. No answer holds a value.

// secretManager admits the callers that may manage secrets, when secrets
// are served at all (Config.Secrets; 404 otherwise).
func (a *api) secretManager(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	if a.cfg.Secrets.Set == nil {
		return commands.Principal{}, errNoRoute
	}
	return a.caller(w, r, domain.ActionManageSecrets)
}

func secretResponse(s eventstore.SecretInfo, rotated bool) wire.Secret {
	return wire.Secret{Name: s.Name, CreatedAt: wire.Time{Time: s.CreatedAt}, UpdatedAt: wire.Time{Time: s.UpdatedAt}, LastUsedAt: wire.Time{Time: s.LastUsedAt}, Rotated: rotated}
}

func (a *api) setSecret(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.SetSecretRequest) (wire.Secret, error) {
	res, err := a.cfg.Secrets.Set.Handle(r.Context(), commands.SetSecret{By: p, Name: req.Name, Value: []byte(req.Value), Meta: requestMeta(r, p)})
	return secretResponse(res.Info, res.Rotated), err
}

func (a *api) listSecrets(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.SecretList, error) {
	list, err := a.cfg.Secrets.List.Handle(r.Context(), commands.ListSecrets{By: p})
	out := wire.SecretList{Secrets: make([]wire.Secret, len(list))}
	for i, s := range list {
		out.Secrets[i] = secretResponse(s, false)
	}
	return out, err
}

func (a *api) deleteSecret(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (noBody, error) {
	_, err := a.cfg.Secrets.Delete.Handle(r.Context(), commands.DeleteSecret{By: p, Name: chi.URLParam(r, "name"), Meta: requestMeta(r, p)})
	return noBody{}, err
}
