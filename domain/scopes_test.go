package domain

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    []string
		want  Scopes
		fails string
	}{
		{"one", []string{"tasks:read"}, Scopes{ScopeTasksRead}, ""},
		{"sorted and deduplicated", []string{"tasks:write", "tasks:read", "tasks:write"}, Scopes{ScopeTasksRead, ScopeTasksWrite}, ""},
		{"admin", []string{"admin"}, Scopes{ScopeAdmin}, ""},
		{"sixteen duplicates", slices.Repeat([]string{"tasks:read"}, 16), Scopes{ScopeTasksRead}, ""},
		{"empty", nil, nil, "at least one scope"},
		{"seventeen", slices.Repeat([]string{"tasks:read"}, 17), nil, "more than 16"},
		{"unknown", []string{"tasks:read", "tasks:delete"}, nil, "unknown scope"},
		{"case", []string{"Tasks:Read"}, nil, "unknown scope"},
		{"blank", []string{""}, nil, "unknown scope"},
		{"spaces", []string{" tasks:read"}, nil, "unknown scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseScopes(tc.in)
			if tc.fails == "" {
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("ParseScopes = (%v, %v), want %v", got, err, tc.want)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "scopes" || !strings.Contains(ve.Reason, tc.fails) {
				t.Fatalf("ParseScopes error = %v, want a ValidationError for scopes saying %q", err, tc.fails)
			}
		})
	}
	_, err := ParseScopes([]string{"tasks:read", "billing:write"})
	if err == nil || !strings.Contains(err.Error(), `"billing:write"`) {
		t.Fatalf("error %v does not name the unknown scope", err)
	}
	_, err = ParseScopes([]string{strings.Repeat("x", 10000)})
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a huge scope is %d bytes, want it truncated", len(err.Error()))
	}
}

func TestScopesHasAndCan(t *testing.T) {
	t.Parallel()
	read := Scopes{ScopeTasksRead}
	write := Scopes{ScopeTasksWrite}
	admin := Scopes{ScopeAdmin}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"read has read", read.Has(ScopeTasksRead), true},
		{"read lacks write", read.Has(ScopeTasksWrite), false},
		{"write lacks read", write.Has(ScopeTasksRead), false},
		{"read lacks admin", read.Has(ScopeAdmin), false},
		{"admin has read", admin.Has(ScopeTasksRead), true},
		{"admin has write", admin.Has(ScopeTasksWrite), true},
		{"nil has nothing", Scopes(nil).Has(ScopeTasksRead), false},
		{"read can read tasks", read.Can(ActionReadTasks), true},
		{"read cannot write tasks", read.Can(ActionWriteTasks), false},
		{"write can write tasks", write.Can(ActionWriteTasks), true},
		{"write cannot manage keys", write.Can(ActionManageOwnKeys), false},
		{"admin can manage members", admin.Can(ActionManageMembers), true},
		{"admin cannot manage billing", admin.Can(ActionManageBilling), false},
		{"admin cannot do unknown", admin.Can("launch_missiles"), false},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if s := (Scopes{ScopeTasksRead, ScopeTasksWrite}).String(); s != "tasks:read tasks:write" {
		t.Errorf("String() = %q", s)
	}
}
