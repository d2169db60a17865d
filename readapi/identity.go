package readapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// The identity endpoints' calls (serveJSON): New's routes say who may
// call each and with which status it answers.

func tokens(t commands.Tokens) wire.Tokens {
	return wire.Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer",
		ExpiresIn: t.ExpiresIn, UserID: t.UserID, TenantID: t.TenantID, Role: t.Role}
}

func (a *api) register(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.RegisterRequest) (wire.Tokens, error) {
	t, err := a.cfg.Identity.Register.Handle(r.Context(), commands.Register{Email: req.Email, Password: req.Password, TenantName: req.TenantName, Meta: requestMeta(r, p)})
	return tokens(t), err
}

func (a *api) login(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.LoginRequest) (wire.Tokens, error) {
	t, err := a.cfg.Identity.Login.Handle(r.Context(), commands.Login{Email: req.Email, Password: req.Password, TenantID: req.TenantID, Meta: requestMeta(r, p)})
	return tokens(t), err
}

func (a *api) refresh(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.RefreshRequest) (wire.Tokens, error) {
	t, err := a.cfg.Identity.Refresh.Handle(r.Context(), commands.Refresh{RefreshToken: req.RefreshToken, Meta: requestMeta(r, p)})
	return tokens(t), err
}

func (a *api) logout(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.RefreshRequest) (noBody, error) {
	return a.cfg.Identity.Logout.Handle(r.Context(), commands.Logout{RefreshToken: req.RefreshToken, Meta: requestMeta(r, p)})
}

// keyResponse describes k; plaintext, when not empty, is its secret, shown
// once.
func keyResponse(k commands.APIKeyInfo, plaintext string) wire.Key {
	return wire.Key{ID: k.ID, Key: plaintext, Name: k.Name, Prefix: k.Prefix, Scopes: append([]domain.Scope{}, k.Scopes...),
		CreatedBy: k.CreatedBy, CreatedAt: wire.Time{Time: k.CreatedAt}, LastUsedAt: wire.Time{Time: k.LastUsedAt}}
}

func (a *api) createAPIKey(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.CreateKeyRequest) (wire.Key, error) {
	created, err := a.cfg.Identity.CreateAPIKey.Handle(r.Context(), commands.CreateAPIKey{By: p, Name: req.Name, Scopes: domain.Scopes(req.Scopes).Strings(), Meta: requestMeta(r, p)})
	return keyResponse(created.Info, created.Key), err
}

func (a *api) listAPIKeys(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.KeyList, error) {
	keys, err := a.cfg.Identity.ListAPIKeys.Handle(r.Context(), commands.ListAPIKeys{By: p})
	out := wire.KeyList{APIKeys: make([]wire.Key, len(keys))}
	for i, k := range keys {
		out.APIKeys[i] = keyResponse(k, "")
	}
	return out, err
}

func (a *api) revokeAPIKey(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (noBody, error) {
	return a.cfg.Identity.RevokeAPIKey.Handle(r.Context(), commands.RevokeAPIKey{By: p, KeyID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)})
}

func (a *api) inviteMember(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.InviteRequest) (wire.Invitation, error) {
	inv, err := a.cfg.Identity.InviteMember.Handle(r.Context(), commands.InviteMember{By: p, Email: req.Email, Role: string(req.Role), Meta: requestMeta(r, p)})
	return invitationResponse(inv), err
}

func (a *api) listInvitations(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.InvitationList, error) {
	invs, err := a.cfg.Identity.ListInvitations.Handle(r.Context(), commands.ListInvitations{By: p})
	return invitationList(invs), err
}

func (a *api) revokeInvitation(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (noBody, error) {
	return a.cfg.Identity.RevokeInvitation.Handle(r.Context(), commands.RevokeInvitation{By: p, InvitationID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)})
}

func (a *api) listMyInvitations(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.InvitationList, error) {
	invs, err := a.cfg.Identity.ListMyInvitations.Handle(r.Context(), commands.ListMyInvitations{By: p})
	return invitationList(invs), err
}

func (a *api) acceptInvitation(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.Membership, error) {
	m, err := a.cfg.Identity.AcceptInvitation.Handle(r.Context(), commands.AcceptInvitation{By: p, InvitationID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)})
	return wire.Membership{UserID: m.UserID, TenantID: m.TenantID, Role: m.Role}, err
}

func (a *api) declineInvitation(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (noBody, error) {
	return a.cfg.Identity.DeclineInvitation.Handle(r.Context(), commands.DeclineInvitation{By: p, InvitationID: chi.URLParam(r, "id"), Meta: requestMeta(r, p)})
}

// invitationResponse is an invitation on the wire.
func invitationResponse(inv commands.InvitationInfo) wire.Invitation {
	return wire.Invitation{InvitationID: inv.ID, TenantID: inv.TenantID, TenantName: inv.TenantName, Email: inv.Email, Role: inv.Role,
		InvitedBy: inv.InvitedBy, CreatedAt: wire.Time{Time: inv.CreatedAt}, ExpiresAt: wire.Time{Time: inv.ExpiresAt}}
}

// invitationList is a list of invitations on the wire; never null.
func invitationList(invs []commands.InvitationInfo) wire.InvitationList {
	out := wire.InvitationList{Invitations: make([]wire.Invitation, len(invs))}
	for i, inv := range invs {
		out.Invitations[i] = invitationResponse(inv)
	}
	return out
}

func (a *api) listMembers(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.MemberList, error) {
	members, err := a.cfg.Identity.ListMembers.Handle(r.Context(), commands.ListMembers{By: p})
	out := wire.MemberList{Members: make([]wire.Member, len(members))}
	for i, m := range members {
		out.Members[i] = wire.Member{UserID: m.UserID, Email: m.Email, Role: m.Role}
	}
	return out, err
}

func (a *api) changeMemberRole(_ http.ResponseWriter, r *http.Request, p commands.Principal, req wire.RoleRequest) (wire.Membership, error) {
	userID := chi.URLParam(r, "user_id")
	_, err := a.cfg.Identity.ChangeMemberRole.Handle(r.Context(), commands.ChangeMemberRole{By: p, UserID: userID, Role: string(req.Role), Meta: requestMeta(r, p)})
	return wire.Membership{UserID: userID, TenantID: p.TenantID, Role: req.Role}, err
}

func (a *api) removeMember(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (noBody, error) {
	return a.cfg.Identity.RemoveMember.Handle(r.Context(), commands.RemoveMember{By: p, UserID: chi.URLParam(r, "user_id"), Meta: requestMeta(r, p)})
}
