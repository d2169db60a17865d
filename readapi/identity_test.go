package readapi_test

import (
	"net/http"
	"reflect"
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
		invited := decode[map[string]string](t, b.send(t, "POST", "/v1/members", `{"email":"mate@example.com","role":"viewer"}`, owner...), http.StatusAccepted)
		if invited["email"] != "mate@example.com" || invited["role"] != "viewer" || invited["tenant_id"] != reg.TenantID {
			t.Fatalf("invite answered %v", invited)
		}
		mateAuth := []string{"Authorization", "Bearer " + mate.AccessToken}
		mine := decode[struct {
			Invitations []map[string]string `json:"invitations"`
		}](t, b.send(t, "GET", "/v1/invitations", "", mateAuth...), http.StatusOK)
		if len(mine.Invitations) != 1 || mine.Invitations[0]["invitation_id"] != invited["invitation_id"] || mine.Invitations[0]["tenant_name"] != "flow" {
			t.Fatalf("mate's invitations %v", mine.Invitations)
		}
		added := decode[map[string]string](t, b.send(t, "POST", "/v1/invitations/"+invited["invitation_id"]+"/accept", "", mateAuth...), http.StatusOK)
		if added["user_id"] != mate.UserID || added["role"] != "viewer" || added["tenant_id"] != reg.TenantID {
			t.Fatalf("accept answered %v", added)
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

// signIn signs the owner of label's tenant in and returns its bearer header.
func (b *bundle) signIn(t *testing.T, label string) []string {
	t.Helper()
	tok := decode[tokens](t, b.send(t, "POST", "/v1/auth/login", `{"email":"`+label+`@example.com","password":"`+testPassword+`"}`), http.StatusOK)
	return []string{"Authorization", "Bearer " + tok.AccessToken}
}

// Inviting answers the same whether or not anyone registered the address,
// so it tells nothing about who is registered; invitations stay in their
// tenant and with their address.
func TestInvitationsOverHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		ownerA, ownerB := b.signIn(t, tenantA), b.signIn(t, tenantB)
		reg := decode[tokens](t, b.send(t, "POST", "/v1/auth/register", `{"email":"known@example.com","password":"`+testPassword+`","tenant_name":"known"}`), http.StatusCreated)
		known := []string{"Authorization", "Bearer " + reg.AccessToken}

		answers := map[string]map[string]any{}
		for _, email := range []string{"known@example.com", "unknown@example.com"} {
			resp := b.send(t, "POST", "/v1/members", `{"email":"`+email+`","role":"member"}`, ownerA...)
			got := decode[map[string]any](t, resp, http.StatusAccepted)
			for _, varies := range []string{"invitation_id", "email", "created_at", "expires_at"} {
				if got[varies] == nil || got[varies] == "" {
					t.Fatalf("%s: no %s in %v", email, varies, got)
				}
				delete(got, varies)
			}
			answers[email] = got
		}
		if !reflect.DeepEqual(answers["known@example.com"], answers["unknown@example.com"]) {
			t.Fatalf("a registered address is answered %v, an unregistered one %v", answers["known@example.com"], answers["unknown@example.com"])
		}

		pending := decode[struct {
			Invitations []map[string]string `json:"invitations"`
		}](t, b.send(t, "GET", "/v1/members/invitations", "", ownerA...), http.StatusOK)
		if len(pending.Invitations) != 2 {
			t.Fatalf("tenant A's invitations %v", pending.Invitations)
		}
		var knownID, unknownID string
		for _, inv := range pending.Invitations {
			if inv["email"] == "known@example.com" {
				knownID = inv["invitation_id"]
			} else {
				unknownID = inv["invitation_id"]
			}
		}
		// Another tenant sees none of them and cannot revoke them; another
		// user cannot answer them; an API key answers none.
		other := decode[struct {
			Invitations []map[string]string `json:"invitations"`
		}](t, b.send(t, "GET", "/v1/members/invitations", "", ownerB...), http.StatusOK)
		if len(other.Invitations) != 0 {
			t.Fatalf("tenant B lists %v", other.Invitations)
		}
		decode[map[string]any](t, b.send(t, "DELETE", "/v1/members/invitations/"+knownID, "", ownerB...), http.StatusNotFound)
		decode[map[string]any](t, b.send(t, "POST", "/v1/invitations/"+knownID+"/accept", "", ownerB...), http.StatusNotFound)
		decode[map[string]any](t, b.do(t, "GET", "/v1/invitations", tenantA, ""), http.StatusForbidden)

		// Decline, then accept: no member; revoke, then accept: none either.
		if resp := b.send(t, "POST", "/v1/invitations/"+knownID+"/decline", "", known...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("decline: %d", resp.StatusCode)
		}
		decode[map[string]any](t, b.send(t, "POST", "/v1/invitations/"+knownID+"/accept", "", known...), http.StatusNotFound)
		if resp := b.send(t, "DELETE", "/v1/members/invitations/"+unknownID, "", ownerA...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		members := decode[struct {
			Members []map[string]string `json:"members"`
		}](t, b.send(t, "GET", "/v1/members", "", ownerA...), http.StatusOK)
		if len(members.Members) != 1 {
			t.Fatalf("members after a decline and a revoke: %v", members.Members)
		}
	})
}
