package readapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

func writeTokens(w http.ResponseWriter, status int, t commands.Tokens) {
	writeJSON(w, status, wire.Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer",
		ExpiresIn: t.ExpiresIn, UserID: t.UserID, TenantID: t.TenantID, Role: t.Role})
}

// anonymousMeta is the metadata of events caused by an unauthenticated
// request; the command sets the actor.
func anonymousMeta(r *http.Request) domain.Metadata {
	return requestMeta(r, commands.Principal{})
}

func (a *api) register(w http.ResponseWriter, r *http.Request) {
	if err := a.limitAddress(w, r, "auth", a.cfg.AuthLimit); err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.RegisterRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.cfg.Identity.Register(r.Context(), commands.Register{Email: req.Email, Password: req.Password, TenantName: req.TenantName, Meta: anonymousMeta(r)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeTokens(w, http.StatusCreated, t)
}

func (a *api) login(w http.ResponseWriter, r *http.Request) {
	if err := a.limitAddress(w, r, "auth", a.cfg.AuthLimit); err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.LoginRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.cfg.Identity.Login(r.Context(), commands.Login{Email: req.Email, Password: req.Password, TenantID: req.TenantID, Meta: anonymousMeta(r)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeTokens(w, http.StatusOK, t)
}

func (a *api) refresh(w http.ResponseWriter, r *http.Request) {
	if err := a.limitAddress(w, r, "auth", a.cfg.AuthLimit); err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.RefreshRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.cfg.Identity.Refresh(r.Context(), commands.Refresh{RefreshToken: req.RefreshToken, Meta: anonymousMeta(r)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeTokens(w, http.StatusOK, t)
}

func (a *api) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.limitAddress(w, r, "auth", a.cfg.AuthLimit); err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.RefreshRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Identity.Logout(r.Context(), req.RefreshToken, anonymousMeta(r)); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func keyResponse(k commands.APIKeyInfo, plaintext string) wire.APIKey {
	return wire.APIKey{ID: k.ID, Key: plaintext, Name: k.Name, Prefix: k.Prefix, Scopes: append([]domain.Scope{}, k.Scopes...),
		CreatedBy: k.CreatedBy, CreatedAt: wire.Time{Time: k.CreatedAt}, LastUsedAt: wire.Time{Time: k.LastUsedAt}}
}

func (a *api) createAPIKey(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageOwnKeys)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.CreateAPIKeyRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	key, info, err := a.cfg.Identity.CreateAPIKey(r.Context(), commands.CreateAPIKey{By: p, Name: req.Name, Scopes: domain.Scopes(req.Scopes).Strings(), Meta: requestMeta(r, p)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, keyResponse(info, key))
}

func (a *api) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageOwnKeys)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	keys, err := a.cfg.Identity.ListAPIKeys(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := wire.APIKeyList{APIKeys: make([]wire.APIKey, len(keys))}
	for i, k := range keys {
		out.APIKeys[i] = keyResponse(k, "")
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageOwnKeys)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Identity.RevokeAPIKey(r.Context(), p, chi.URLParam(r, "id"), requestMeta(r, p)); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) addMember(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageMembers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.AddMemberRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	userID, err := a.cfg.Identity.AddMember(r.Context(), commands.AddMember{By: p, Email: req.Email, Role: string(req.Role), Meta: requestMeta(r, p)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wire.Membership{UserID: userID, TenantID: p.TenantID, Role: req.Role})
}

func (a *api) listMembers(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionReadTasks)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	members, err := a.cfg.Identity.ListMembers(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := wire.MemberList{Members: make([]wire.Member, len(members))}
	for i, m := range members {
		out.Members[i] = wire.Member{UserID: m.UserID, Email: m.Email, Role: m.Role}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) changeMemberRole(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageMembers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req wire.RoleRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	userID := chi.URLParam(r, "user_id")
	if err := a.cfg.Identity.ChangeMemberRole(r.Context(), p, userID, string(req.Role), requestMeta(r, p)); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.Membership{UserID: userID, TenantID: p.TenantID, Role: req.Role})
}

func (a *api) removeMember(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageMembers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.cfg.Identity.RemoveMember(r.Context(), p, chi.URLParam(r, "user_id"), requestMeta(r, p)); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
