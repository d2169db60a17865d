package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is a permission carried by an API key.
type Scope string

// The scopes. The set is small on purpose; add one only together with the
// endpoints that check it.
const (
	// ScopeTasksRead allows listing tasks, reading their status and
	// streaming their events.
	ScopeTasksRead Scope = "tasks:read"
	// ScopeTasksWrite allows starting, cancelling and resuming tasks. It
	// does not imply tasks:read: an agent that starts tasks and follows
	// their streams needs both.
	ScopeTasksWrite Scope = "tasks:write"
	// ScopeAdmin implies every other scope and allows every action of the
	// admin role (not billing). Only owners and admins may grant it.
	ScopeAdmin Scope = "admin"
)

// MaxScopes is the most scopes [ParseScopes] accepts in one list.
const MaxScopes = 16

// maxScopeLength bounds the scope text echoed back in errors.
const maxScopeLength = 64

// Scopes is a set of scopes, sorted and without duplicates when it comes from
// [ParseScopes].
type Scopes []Scope

// ParseScopes validates the scopes a client asked for and returns them sorted
// with duplicates removed. An empty list, more than [MaxScopes] entries or an
// unknown scope is an [*ValidationError] for field "scopes" that names the
// problem.
func ParseScopes(in []string) (Scopes, error) {
	if len(in) == 0 {
		return nil, &ValidationError{Field: "scopes", Reason: "must list at least one scope; use tasks:read, tasks:write or admin"}
	}
	if len(in) > MaxScopes {
		return nil, &ValidationError{Field: "scopes", Reason: fmt.Sprintf("lists %d scopes, more than %d; remove duplicates or use admin", len(in), MaxScopes)}
	}
	out := make(Scopes, 0, len(in))
	for _, s := range in {
		sc := Scope(s)
		if !sc.known() {
			shown := s
			if len(shown) > maxScopeLength {
				shown = shown[:maxScopeLength] + "…"
			}
			return nil, &ValidationError{Field: "scopes", Reason: fmt.Sprintf("unknown scope %q; use tasks:read, tasks:write or admin", shown)}
		}
		out = append(out, sc)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Has reports whether the set grants scope s; [ScopeAdmin] grants every
// scope.
func (ss Scopes) Has(s Scope) bool {
	return slices.Contains(ss, s) || slices.Contains(ss, ScopeAdmin)
}

// Can reports whether an API key with these scopes may take action a:
// tasks:read allows read_tasks, tasks:write allows write_tasks, and admin
// allows what [RoleAdmin] allows (everything but billing). The caller must
// still check that the key's tenant is the resource's tenant.
func (ss Scopes) Can(a Action) bool {
	switch {
	case slices.Contains(ss, ScopeAdmin):
		return RoleAdmin.Can(a)
	case a == ActionReadTasks:
		return slices.Contains(ss, ScopeTasksRead)
	case a == ActionWriteTasks:
		return slices.Contains(ss, ScopeTasksWrite)
	}
	return false
}

// Strings returns the scopes as strings, for storage and JSON.
func (ss Scopes) Strings() []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// String returns the scopes separated by spaces, as in OAuth's scope
// parameter.
func (ss Scopes) String() string { return strings.Join(ss.Strings(), " ") }

func (s Scope) known() bool {
	return s == ScopeTasksRead || s == ScopeTasksWrite || s == ScopeAdmin
}
