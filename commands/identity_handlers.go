package commands

import (
	"log/slog"
)

// IdentityHandlers are the handlers of the identity commands and queries,
// each of the one shape Handler[C, R], as the HTTP layer calls them. Build
// them with NewIdentityHandlers and decorate them once where they are
// wired (Decorated).
type IdentityHandlers struct {
	Register          Handler[Register, Tokens]
	Login             Handler[Login, Tokens]
	Refresh           Handler[Refresh, Tokens]
	Logout            Handler[Logout, struct{}]
	CreateAPIKey      Handler[CreateAPIKey, CreateAPIKeyResult]
	RevokeAPIKey      Handler[RevokeAPIKey, struct{}]
	InviteMember      Handler[InviteMember, InvitationInfo]
	RevokeInvitation  Handler[RevokeInvitation, struct{}]
	AcceptInvitation  Handler[AcceptInvitation, Membership]
	DeclineInvitation Handler[DeclineInvitation, struct{}]
	ChangeMemberRole  Handler[ChangeMemberRole, struct{}]
	RemoveMember      Handler[RemoveMember, struct{}]
	// The queries.
	ListAPIKeys       Handler[ListAPIKeys, []APIKeyInfo]
	ListMembers       Handler[ListMembers, []Member]
	ListInvitations   Handler[ListInvitations, []InvitationInfo]
	ListMyInvitations Handler[ListMyInvitations, []InvitationInfo]
}

// NewIdentityHandlers returns the identity handlers on deps; ListAPIKeys
// reads keys' last use through usage, the KeyUsage the Authenticator
// records into.
func NewIdentityHandlers(deps *IdentityDeps, usage *KeyUsage) IdentityHandlers {
	return IdentityHandlers{
		Register:          &RegisterHandler{deps},
		Login:             &LoginHandler{deps},
		Refresh:           &RefreshHandler{deps},
		Logout:            &LogoutHandler{deps},
		CreateAPIKey:      &CreateAPIKeyHandler{deps},
		RevokeAPIKey:      &RevokeAPIKeyHandler{deps},
		InviteMember:      &InviteMemberHandler{deps},
		RevokeInvitation:  &RevokeInvitationHandler{deps},
		AcceptInvitation:  &AcceptInvitationHandler{deps},
		DeclineInvitation: &DeclineInvitationHandler{deps},
		ChangeMemberRole:  &ChangeMemberRoleHandler{deps},
		RemoveMember:      &RemoveMemberHandler{deps},
		ListAPIKeys:       &ListAPIKeysHandler{deps: deps, usage: usage},
		ListMembers:       &ListMembersHandler{deps},
		ListInvitations:   &ListInvitationsHandler{deps},
		ListMyInvitations: &ListMyInvitationsHandler{deps},
	}
}

// Decorated returns h with every handler wrapped by Decorate with logger
// and metrics. Call it once, where the handlers are wired.
func (h IdentityHandlers) Decorated(logger *slog.Logger, metrics MetricsClient) IdentityHandlers {
	return IdentityHandlers{
		Register:          Decorate(h.Register, logger, metrics),
		Login:             Decorate(h.Login, logger, metrics),
		Refresh:           Decorate(h.Refresh, logger, metrics),
		Logout:            Decorate(h.Logout, logger, metrics),
		CreateAPIKey:      Decorate(h.CreateAPIKey, logger, metrics),
		RevokeAPIKey:      Decorate(h.RevokeAPIKey, logger, metrics),
		InviteMember:      Decorate(h.InviteMember, logger, metrics),
		RevokeInvitation:  Decorate(h.RevokeInvitation, logger, metrics),
		AcceptInvitation:  Decorate(h.AcceptInvitation, logger, metrics),
		DeclineInvitation: Decorate(h.DeclineInvitation, logger, metrics),
		ChangeMemberRole:  Decorate(h.ChangeMemberRole, logger, metrics),
		RemoveMember:      Decorate(h.RemoveMember, logger, metrics),
		ListAPIKeys:       Decorate(h.ListAPIKeys, logger, metrics),
		ListMembers:       Decorate(h.ListMembers, logger, metrics),
		ListInvitations:   Decorate(h.ListInvitations, logger, metrics),
		ListMyInvitations: Decorate(h.ListMyInvitations, logger, metrics),
	}
}

// Validate reports the first handler of h that is nil, as an error naming
// it; nil when h is complete.
func (h IdentityHandlers) Validate() error {
	return firstNil(h, "identity handlers", "NewIdentityHandlers")
}
