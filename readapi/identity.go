package readapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// registerRequest is the body of POST /v1/auth/register.
type registerRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	TenantName string `json:"tenant_name"`
}

// loginRequest is the body of POST /v1/auth/login.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// TenantID chooses a tenant other than the user's own, optionally.
	TenantID string `json:"tenant_id"`
}

// refreshRequest is the body of POST /v1/auth/refresh and /v1/auth/logout.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// tokensResponse answers register, login and refresh.
type tokensResponse struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    int64       `json:"expires_in"`
	UserID       string      `json:"user_id"`
	TenantID     string      `json:"tenant_id"`
	Role         domain.Role `json:"role"`
}

func writeTokens(w http.ResponseWriter, status int, t commands.Tokens) {
	writeJSON(w, status, tokensResponse{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer",
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
	var req registerRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.cfg.Identity.Register.Handle(r.Context(), commands.Register{Email: req.Email, Password: req.Password, TenantName: req.TenantName, Meta: anonymousMeta(r)})
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
	var req loginRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.cfg.Identity.Login.Handle(r.Context(), commands.Login{Email: req.Email, Password: req.Password, TenantID: req.TenantID, Meta: anonymousMeta(r)})
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
	var req refreshRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.cfg.Identity.Refresh.Handle(r.Context(), commands.Refresh{RefreshToken: req.RefreshToken, Meta: anonymousMeta(r)})
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
	var req refreshRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := a.cfg.Identity.Logout.Handle(r.Context(), commands.Logout{RefreshToken: req.RefreshToken, Meta: anonymousMeta(r)}); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createKeyRequest is the body of POST /v1/api-keys.
type createKeyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// apiKeyResponse describes a key; Key, the plaintext, only when created.
type apiKeyResponse struct {
	ID         string   `json:"id"`
	Key        string   `json:"key,omitempty"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedBy  string   `json:"created_by"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
}

func keyResponse(k commands.APIKeyInfo, plaintext string) apiKeyResponse {
	return apiKeyResponse{ID: k.ID, Key: plaintext, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes.Strings(),
		CreatedBy: k.CreatedBy, CreatedAt: domain.FormatTime(k.CreatedAt), LastUsedAt: optionalTime(k.LastUsedAt)}
}

func (a *api) createAPIKey(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageOwnKeys)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req createKeyRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	created, err := a.cfg.Identity.CreateAPIKey.Handle(r.Context(), commands.CreateAPIKey{By: p, Name: req.Name, Scopes: req.Scopes, Meta: requestMeta(r, p)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, keyResponse(created.Info, created.Key))
}

func (a *api) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageOwnKeys)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	keys, err := a.cfg.Identity.ListAPIKeys.Handle(r.Context(), commands.ListAPIKeys{By: p})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]apiKeyResponse, len(keys))
	for i, k := range keys {
		out[i] = keyResponse(k, "")
	}
	writeJSON(w, http.StatusOK, map[string][]apiKeyResponse{"api_keys": out})
}

func (a *api) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageOwnKeys)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := a.cfg.Identity.RevokeAPIKey.Handle(r.Context(), commands.RevokeAPIKey{By: p, KeyID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)}); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// addMemberRequest is the body of POST /v1/members.
type addMemberRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

func (a *api) addMember(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageMembers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req addMemberRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	userID, err := a.cfg.Identity.AddMember.Handle(r.Context(), commands.AddMember{By: p, Email: req.Email, Role: req.Role, Meta: requestMeta(r, p)})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"user_id": userID, "tenant_id": p.TenantID, "role": req.Role})
}

// memberResponse is one member in GET /v1/members.
type memberResponse struct {
	UserID string      `json:"user_id"`
	Email  string      `json:"email"`
	Role   domain.Role `json:"role"`
}

func (a *api) listMembers(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionReadTasks)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	members, err := a.cfg.Identity.ListMembers.Handle(r.Context(), commands.ListMembers{By: p})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]memberResponse, len(members))
	for i, m := range members {
		out[i] = memberResponse{UserID: m.UserID, Email: m.Email, Role: m.Role}
	}
	writeJSON(w, http.StatusOK, map[string][]memberResponse{"members": out})
}

// roleRequest is the body of PATCH /v1/members/{user_id}.
type roleRequest struct {
	Role string `json:"role"`
}

func (a *api) changeMemberRole(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageMembers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req roleRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	userID := chi.URLParam(r, "user_id")
	if _, err := a.cfg.Identity.ChangeMemberRole.Handle(r.Context(), commands.ChangeMemberRole{By: p, UserID: userID, Role: req.Role, Meta: requestMeta(r, p)}); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user_id": userID, "tenant_id": p.TenantID, "role": req.Role})
}

func (a *api) removeMember(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionManageMembers)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := a.cfg.Identity.RemoveMember.Handle(r.Context(), commands.RemoveMember{By: p, UserID: chi.URLParam(r, "user_id"), Meta: requestMeta(r, p)}); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
