package readapi_test

import (
	"net/http"
	"testing"
)

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id"`
	TenantID     string `json:"tenant_id"`
	Role         string `json:"role"`
}

type apiKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// TestIdentityEndpoints walks the identity endpoints over HTTP, as a client
// would: register, sign in, refresh, keys, members, sign out.
func TestIdentityEndpoints(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		reg := decode[tokens](t, b.send(t, "POST", "/v1/auth/register", `{"email":"flow@example.com","password":"`+testPassword+`","tenant_name":"flow"}`), http.StatusCreated)
		if reg.Role != "owner" || reg.AccessToken == "" {
			t.Fatalf("register answered %+v", reg)
		}
		p := decode[map[string]any](t, b.send(t, "POST", "/v1/auth/register", `{"email":"Flow@example.com","password":"`+testPassword+`","tenant_name":"again"}`), http.StatusConflict)
		if p["field"] != "email" {
			t.Fatalf("a second registration: %v", p)
		}
		login := decode[tokens](t, b.send(t, "POST", "/v1/auth/login", `{"email":"FLOW@example.com","password":"`+testPassword+`"}`), http.StatusOK)
		if login.UserID != reg.UserID || login.TenantID != reg.TenantID {
			t.Fatalf("login answered %+v after register %+v", login, reg)
		}
		next := decode[tokens](t, b.send(t, "POST", "/v1/auth/refresh", `{"refresh_token":"`+login.RefreshToken+`"}`), http.StatusOK)
		if next.RefreshToken == login.RefreshToken {
			t.Fatal("refresh returned the same refresh token")
		}
		owner := []string{"Authorization", "Bearer " + next.AccessToken, "X-Request-Id", "flow-1"}

		key := decode[apiKey](t, b.send(t, "POST", "/v1/api-keys", `{"name":"ci","scopes":["tasks:read","tasks:write"]}`, owner...), http.StatusCreated)
		if key.Key == "" {
			t.Fatal("a created key without its plaintext")
		}
		keys := decode[struct {
			APIKeys []apiKey `json:"api_keys"`
		}](t, b.send(t, "GET", "/v1/api-keys", "", owner...), http.StatusOK)
		if len(keys.APIKeys) != 1 || keys.APIKeys[0].ID != key.ID || keys.APIKeys[0].Key != "" {
			t.Fatalf("listed keys %+v", keys.APIKeys)
		}
		for range 2 { // idempotent
			if resp := b.send(t, "DELETE", "/v1/api-keys/"+key.ID, "", owner...); resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Request-Id") != "flow-1" {
				t.Fatalf("revoke: %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
			}
		}
		// An id that names a stream of another kind is no key, and no user.
		task := b.start(t)
		if resp := b.send(t, "DELETE", "/v1/api-keys/"+task.TaskID, "", owner...); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("revoking a task's id as a key: %d", resp.StatusCode)
		}
		if resp := b.send(t, "PATCH", "/v1/members/"+task.TaskID, `{"role":"member"}`, owner...); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("changing the role of a task's id: %d", resp.StatusCode)
		}

		mate := decode[tokens](t, b.send(t, "POST", "/v1/auth/register", `{"email":"mate@example.com","password":"`+testPassword+`","tenant_name":"mate"}`), http.StatusCreated)
		added := decode[map[string]string](t, b.send(t, "POST", "/v1/members", `{"email":"mate@example.com","role":"viewer"}`, owner...), http.StatusCreated)
		if added["user_id"] != mate.UserID || added["role"] != "viewer" {
			t.Fatalf("add member answered %v", added)
		}
		changed := decode[map[string]string](t, b.send(t, "PATCH", "/v1/members/"+mate.UserID, `{"role":"member"}`, owner...), http.StatusOK)
		if changed["role"] != "member" || changed["tenant_id"] != reg.TenantID {
			t.Fatalf("change role answered %v", changed)
		}
		members := decode[struct {
			Members []map[string]string `json:"members"`
		}](t, b.send(t, "GET", "/v1/members", "", owner...), http.StatusOK)
		if len(members.Members) != 2 {
			t.Fatalf("members %v", members.Members)
		}
		if resp := b.send(t, "DELETE", "/v1/members/"+mate.UserID, "", owner...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("remove member: %d", resp.StatusCode)
		}
		decode[map[string]any](t, b.send(t, "DELETE", "/v1/members/"+mate.UserID, "", owner...), http.StatusNotFound)

		if resp := b.send(t, "POST", "/v1/auth/logout", `{"refresh_token":"`+next.RefreshToken+`"}`); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		decode[map[string]any](t, b.send(t, "POST", "/v1/auth/refresh", `{"refresh_token":"`+next.RefreshToken+`"}`), http.StatusUnauthorized)
	})
}
