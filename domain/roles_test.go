package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	t.Parallel()
	for _, r := range []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer} {
		got, err := ParseRole(string(r))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = (%q, %v)", r, got, err)
		}
	}
	for _, s := range []string{"", "Owner", "root", " admin", strings.Repeat("a", 1000)} {
		_, err := ParseRole(s)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "role" {
			t.Errorf("ParseRole(%.20q) error = %v, want a ValidationError for role", s, err)
		}
		if len(err.Error()) > 200 {
			t.Errorf("error for a %d-byte role is %d bytes", len(s), len(err.Error()))
		}
	}
}

func TestRoleCan(t *testing.T) {
	t.Parallel()
	actions := []Action{ActionReadTasks, ActionWriteTasks, ActionManageOwnKeys, ActionManageKeys,
		ActionManageMembers, ActionManageWebhooks, ActionManageSecrets, ActionManageBilling}
	// One row per role, one column per action above.
	table := map[Role][]bool{
		RoleOwner:  {true, true, true, true, true, true, true, true},
		RoleAdmin:  {true, true, true, true, true, true, true, false},
		RoleMember: {true, true, true, false, false, false, false, false},
		RoleViewer: {true, false, false, false, false, false, false, false},
		"":         {false, false, false, false, false, false, false, false},
		"root":     {false, false, false, false, false, false, false, false},
	}
	for role, want := range table {
		for i, a := range actions {
			if got := role.Can(a); got != want[i] {
				t.Errorf("%q.Can(%s) = %v, want %v", role, a, got, want[i])
			}
		}
		if role.Can("launch_missiles") {
			t.Errorf("%q can take an unknown action", role)
		}
	}
}

func TestRoleCanGrant(t *testing.T) {
	t.Parallel()
	scopes := []Scope{ScopeTasksRead, ScopeTasksWrite, ScopeAdmin, "unknown"}
	table := map[Role][]bool{
		RoleOwner:  {true, true, true, false},
		RoleAdmin:  {true, true, true, false},
		RoleMember: {true, true, false, false},
		RoleViewer: {false, false, false, false},
		"":         {false, false, false, false},
	}
	for role, want := range table {
		for i, s := range scopes {
			if got := role.CanGrant(s); got != want[i] {
				t.Errorf("%q.CanGrant(%s) = %v, want %v", role, s, got, want[i])
			}
		}
	}
}
