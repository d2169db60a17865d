package dashboard

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// membersPage is the data of the members template: the signed-in user's
// own invitations (to any tenant), the tenant's members, and, for those
// who manage members, the tenant's pending invitations and the invite
// form.
type membersPage struct {
	Inbox   []api.Invitation
	Members []api.Member
	// Manage is whether the user's role manages members; Invitations are
	// then the tenant's pending ones.
	Manage      bool
	Invitations []api.Invitation
	Roles       []domain.Role
	// Invited is the invitation just sent.
	Invited *api.Invitation
	// Accepted is the membership of an invitation just accepted.
	Accepted *api.Membership
	Email    string
	Role     domain.Role
	Error    string
}

// title implements titled.
func (membersPage) title() string { return "Members" }

// allRoles are the roles a member may be given.
var allRoles = []domain.Role{domain.RoleViewer, domain.RoleMember, domain.RoleAdmin, domain.RoleOwner}

// membersPage shows the members, the invitations and the invite form.
func (d *dashboard) membersPage(w http.ResponseWriter, r *http.Request) {
	d.showMembers(w, r, http.StatusOK, membersPage{})
}

// showMembers renders the members page p with what the API answers.
func (d *dashboard) showMembers(w http.ResponseWriter, r *http.Request, status int, p membersPage) {
	st := state(r)
	inbox, err := st.c.MyInvitations(r.Context())
	if err == nil {
		p.Members, err = st.c.ListMembers(r.Context())
	}
	p.Manage = st.s.Role.Can(domain.ActionManageMembers)
	if err == nil && p.Manage {
		p.Invitations, err = st.c.TenantInvitations(r.Context())
	}
	if err != nil {
		d.fail(w, r, err)
		return
	}
	p.Inbox, p.Roles = inbox, allRoles
	if p.Role == "" {
		p.Role = domain.RoleMember
	}
	d.render(w, r, status, "members", p)
}

// invite invites an email address into the tenant (the API answers 202:
// the invitation waits for its invitee).
func (d *dashboard) invite(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	role := domain.Role(r.PostFormValue("role"))
	inv, err := state(r).c.InviteMember(r.Context(), email, role)
	if err != nil {
		d.showMembers(w, r, statusOf(err), membersPage{Email: email, Role: role, Error: problemMessage(err)})
		return
	}
	d.showMembers(w, r, http.StatusOK, membersPage{Invited: &inv})
}

// changeRole changes a member's role.
func (d *dashboard) changeRole(w http.ResponseWriter, r *http.Request) {
	_, err := state(r).c.ChangeMemberRole(r.Context(), chi.URLParam(r, "user"), domain.Role(r.PostFormValue("role")))
	d.afterMembers(w, r, err)
}

// removeMember removes a member from the tenant.
func (d *dashboard) removeMember(w http.ResponseWriter, r *http.Request) {
	d.afterMembers(w, r, state(r).c.RemoveMember(r.Context(), chi.URLParam(r, "user")))
}

// revokeInvitation revokes one of the tenant's pending invitations.
func (d *dashboard) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	d.afterMembers(w, r, state(r).c.RevokeInvitation(r.Context(), chi.URLParam(r, "id")))
}

// declineInvitation declines one of the user's own invitations.
func (d *dashboard) declineInvitation(w http.ResponseWriter, r *http.Request) {
	d.afterMembers(w, r, state(r).c.DeclineInvitation(r.Context(), chi.URLParam(r, "id")))
}

// acceptInvitation accepts one of the user's own invitations: the user is
// a member of that tenant from now on (signing in again chooses it).
func (d *dashboard) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	m, err := state(r).c.AcceptInvitation(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		d.fail(w, r, err)
		return
	}
	d.showMembers(w, r, http.StatusOK, membersPage{Accepted: &m})
}

// afterMembers answers a change on the members page: back to the page, or
// what the API said when it refused.
func (d *dashboard) afterMembers(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/members", http.StatusSeeOther)
}
