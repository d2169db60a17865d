package domain

import "fmt"

// Role is a user's role in one tenant. The zero value is no role and may do
// nothing.
type Role string

// The roles, from most to least powerful.
const (
	// RoleOwner may do everything, including billing. Every tenant has at
	// least one owner (an invariant the tenant aggregate enforces).
	RoleOwner Role = "owner"
	// RoleAdmin may do everything but billing: billing stays with the
	// people who pay, so a compromised admin cannot change the plan or the
	// payment details.
	RoleAdmin Role = "admin"
	// RoleMember may read and write tasks and manage their own API keys.
	RoleMember Role = "member"
	// RoleViewer may only read tasks.
	RoleViewer Role = "viewer"
)

// maxRoleLength bounds the role text echoed back in errors.
const maxRoleLength = 32

// ParseRole parses one of "owner", "admin", "member" or "viewer" (exact,
// lower case). Anything else is an [*ValidationError] for field "role".
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleAdmin, RoleMember, RoleViewer:
		return r, nil
	}
	if len(s) > maxRoleLength {
		return "", &ValidationError{Field: "role", Reason: fmt.Sprintf("is longer than %d bytes; use one of owner, admin, member, viewer", maxRoleLength)}
	}
	return "", &ValidationError{Field: "role", Reason: fmt.Sprintf("unknown role %q; use one of owner, admin, member, viewer", s)}
}

// String returns the role's name.
func (r Role) String() string { return string(r) }

// Action is something a user or an API key may be allowed to do in a tenant.
type Action string

// The actions that authorization decides on.
const (
	ActionReadTasks      Action = "read_tasks"      // list tasks, read status, stream events
	ActionWriteTasks     Action = "write_tasks"     // start, cancel and resume tasks
	ActionManageOwnKeys  Action = "manage_own_keys" // create, list and delete one's own API keys
	ActionManageKeys     Action = "manage_keys"     // create, list and delete anyone's API keys in the tenant
	ActionManageMembers  Action = "manage_members"  // invite, remove and change the role of members
	ActionManageWebhooks Action = "manage_webhooks" // create, change and delete webhooks
	ActionManageSecrets  Action = "manage_secrets"  // set, list and delete the tenant's secrets
	ActionManageBilling  Action = "manage_billing"  // change the plan and payment details
)

// Can reports whether a user with role r may take action a:
//
//	owner:  everything
//	admin:  everything but manage_billing
//	member: read_tasks, write_tasks, manage_own_keys
//	viewer: read_tasks
//
// An unknown role or action is never allowed.
func (r Role) Can(a Action) bool {
	switch r {
	case RoleOwner:
		return a.known()
	case RoleAdmin:
		return a.known() && a != ActionManageBilling
	case RoleMember:
		return a == ActionReadTasks || a == ActionWriteTasks || a == ActionManageOwnKeys
	case RoleViewer:
		return a == ActionReadTasks
	}
	return false
}

// CanGrant reports whether a user with role r may create an API key carrying
// scope s. A key never gets more than its creator could do: owners and
// admins may grant any scope, members tasks:read and tasks:write, viewers
// nothing (they may not manage keys).
func (r Role) CanGrant(s Scope) bool {
	switch s {
	case ScopeAdmin:
		return r == RoleOwner || r == RoleAdmin
	case ScopeTasksWrite:
		return r.Can(ActionWriteTasks) && r.Can(ActionManageOwnKeys)
	case ScopeTasksRead:
		return r.Can(ActionReadTasks) && r.Can(ActionManageOwnKeys)
	}
	return false
}

func (a Action) known() bool {
	switch a {
	case ActionReadTasks, ActionWriteTasks, ActionManageOwnKeys, ActionManageKeys,
		ActionManageMembers, ActionManageWebhooks, ActionManageSecrets, ActionManageBilling:
		return true
	}
	return false
}
