package readapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testidentity"
)

// TestAuthMatrix sends every endpoint's request with every kind of
// credential and checks the status: 401 for no, expired, tampered or
// revoked credentials; 403 for a key without the scope or a viewer writing
// in their own tenant; 404 for another tenant's task or key.
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{list: true}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		id := b.identity
		// A finished task of tenant A, so that streams close by themselves.
		st := b.start(t)
		b.run(t, st.TaskID)
		openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, "")).events()

		ownerTok, err := id.Login.Handle(ctx, commands.Login{Email: tenantA + "@example.com", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		owner, err := id.Authenticate(ctx, ownerTok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		key := func(scopes ...string) (string, commands.APIKeyInfo) {
			created, err := id.CreateAPIKey.Handle(ctx, commands.CreateAPIKey{By: owner, Name: "matrix", Scopes: scopes})
			if err != nil {
				t.Fatal(err)
			}
			return created.Key, created.Info
		}
		readOnly, _ := key("tasks:read")
		writeOnly, _ := key("tasks:write")
		revoked, revokedInfo := key("admin")
		if _, err := id.RevokeAPIKey.Handle(ctx, commands.RevokeAPIKey{By: owner, KeyID: revokedInfo.ID}); err != nil {
			t.Fatal(err)
		}
		_, victimKey := key("tasks:read") // the key other tenants try to delete
		if _, err := id.Register.Handle(ctx, commands.Register{Email: "vic@example.com", Password: testPassword, TenantName: "vic"}); err != nil {
			t.Fatal(err)
		}
		if _, err := testidentity.Join(ctx, id, owner, "vic@example.com", "viewer"); err != nil {
			t.Fatal(err)
		}
		viewerTok, err := id.Login.Handle(ctx, commands.Login{Email: "vic@example.com", Password: testPassword, TenantID: owner.TenantID})
		if err != nil {
			t.Fatal(err)
		}
		otherTok, err := id.Login.Handle(ctx, commands.Login{Email: tenantB + "@example.com", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		// An access token signed with the right key, expired an hour ago.
		past, err := auth.NewIssuer(auth.IssuerConfig{Keys: testidentity.Keyring(), Issuer: testidentity.Issuer, Audience: testidentity.Audience, Expiry: time.Minute,
			NowFunc: func() time.Time { return time.Now().Add(-time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		expired, _, err := past.Issue(owner.UserID, owner.TenantID, domain.RoleOwner)
		if err != nil {
			t.Fatal(err)
		}
		// The owner's token with its payload changed (role owner → admin is
		// not needed: any change breaks the signature).
		parts := strings.Split(ownerTok.AccessToken, ".")
		parts[1] = parts[1][:len(parts[1])-2] + flip(parts[1][len(parts[1])-2:])
		tampered := strings.Join(parts, ".")

		task := "/mcp/tasks/" + st.TaskID
		endpoints := []struct{ name, method, path, body string }{
			{"start", "POST", "/mcp/start_task", `{"name":"t","adapter":"mock","args":{"steps":1}}`},
			{"status", "GET", task + "/status", ""},
			{"cancel", "POST", task + "/cancel", ""},
			{"stream", "GET", task + "/stream", ""},
			{"resume", "POST", task + "/resume", `{"last_seq":0}`},
			{"events", "GET", "/v1/tasks/" + st.TaskID + "/events", ""},
			{"list", "GET", "/v1/tasks", ""},
			{"key create", "POST", "/v1/api-keys", `{"name":"x","scopes":["tasks:read"]}`},
			{"key list", "GET", "/v1/api-keys", ""},
			{"key revoke", "DELETE", "/v1/api-keys/" + victimKey.ID, ""},
			{"member invite", "POST", "/v1/members", `{"email":"vic@example.com","role":"viewer"}`},
			{"members", "GET", "/v1/members", ""},
			{"member role", "PATCH", "/v1/members/" + owner.UserID, `{"role":"owner"}`},
			{"member rm", "DELETE", "/v1/members/nobody", ""},
			{"secret set", "POST", "/v1/secrets", `{"name":"MATRIX","value":"matrix-value"}`},
			{"secrets", "GET", "/v1/secrets", ""},
			{"secret rm", "DELETE", "/v1/secrets/NOPE", ""},
		}
		all := func(code int) []int {
			out := make([]int, len(endpoints))
			for i := range out {
				out[i] = code
			}
			return out
		}
		creds := []struct {
			name, bearer string
			want         []int
		}{
			{"no credentials", "", all(401)},
			{"expired JWT", expired, all(401)},
			{"tampered JWT", tampered, all(401)},
			{"revoked key", revoked, all(401)},
			{"key tasks:read only", readOnly, []int{403, 200, 403, 200, 200, 200, 200, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403}},
			{"key tasks:write only", writeOnly, []int{201, 403, 409, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
			{"other tenant's owner", otherTok.AccessToken, []int{201, 404, 404, 404, 404, 404, 200, 201, 200, 404, 202, 200, 404, 404, 201, 200, 404}},
			{"viewer role", viewerTok.AccessToken, []int{403, 200, 403, 200, 200, 200, 200, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403}},
		}
		var table strings.Builder
		fmt.Fprintf(&table, "%-22s", "")
		for _, e := range endpoints {
			fmt.Fprintf(&table, " %-10s", e.name)
		}
		for _, c := range creds {
			fmt.Fprintf(&table, "\n%-22s", c.name)
			for i, e := range endpoints {
				var hdr []string
				if c.bearer != "" {
					hdr = []string{"Authorization", "Bearer " + c.bearer}
				}
				resp := b.send(t, e.method, e.path, e.body, hdr...)
				body, _ := io.ReadAll(resp.Body)
				fmt.Fprintf(&table, " %-10d", resp.StatusCode)
				if resp.StatusCode != c.want[i] {
					t.Errorf("%s, %s %s: status %d, want %d: %s", c.name, e.method, e.path, resp.StatusCode, c.want[i], body)
				}
				if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s, %s: 401 without WWW-Authenticate", c.name, e.name)
				}
				if c.name == "other tenant's owner" && e.name == "list" && strings.Contains(string(body), st.TaskID) {
					t.Errorf("another tenant's list shows tenant A's task: %s", body)
				}
				for _, secret := range []string{readOnly, writeOnly, revoked} {
					if strings.Contains(string(body), secret) {
						t.Errorf("%s, %s: the answer holds an API key", c.name, e.name)
					}
				}
			}
		}
		t.Logf("status by credential and endpoint:\n%s", table.String())
	})
}

// flip changes the base64url characters of s into others.
func flip(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == 'A' {
			out[i] = 'B'
		} else {
			out[i] = 'A'
		}
	}
	return string(out)
}
