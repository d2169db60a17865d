package readapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
)

type secretInfo struct {
	Name       string `json:"name"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
	LastUsedAt string `json:"last_used_at"`
	Rotated    bool   `json:"rotated"`
	Value      string `json:"value"`
}

type secretList struct {
	Secrets []secretInfo `json:"secrets"`
}

// TestSecretEndpoints walks /v1/secrets as a tenant's admin would: set
// (then set again: a rotation), list, delete; no answer holds a value,
// other tenants see none of it, keys without admin may not, bad input is a
// 400 naming the field, and the tenant's feed records each change by name.
func TestSecretEndpoints(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		admin := map[string][]string{}
		for _, label := range []string{tenantA, tenantB} {
			_, key, err := testidentity.Tenant(t.Context(), b.identity, label+"-admin", "admin")
			if err != nil {
				t.Fatal(err)
			}
			admin[label] = []string{"Authorization", "Bearer " + key}
		}
		a, other := admin[tenantA], admin[tenantB]
		body := `{"name":"FLY_TOKEN","value":"` + testSecretValue + `"}`
		created := decode[secretInfo](t, b.send(t, "POST", "/v1/secrets", body, a...), http.StatusCreated)
		if created.Name != "FLY_TOKEN" || created.Rotated || created.Value != "" || created.CreatedAt == "" || created.LastUsedAt != "" {
			t.Fatalf("created %+v", created)
		}
		rotated := decode[secretInfo](t, b.send(t, "POST", "/v1/secrets", body, a...), http.StatusCreated)
		if !rotated.Rotated || rotated.CreatedAt != created.CreatedAt || rotated.UpdatedAt < created.UpdatedAt {
			t.Fatalf("set again %+v, want a rotation keeping created_at", rotated)
		}
		decode[secretInfo](t, b.send(t, "POST", "/v1/secrets", `{"name":"OTHER","value":"other-value"}`, other...), http.StatusCreated)
		list := decode[secretList](t, b.send(t, "GET", "/v1/secrets", "", a...), http.StatusOK)
		if len(list.Secrets) != 1 || list.Secrets[0].Name != "FLY_TOKEN" {
			t.Fatalf("listed %+v, want the tenant's one secret", list)
		}

		// Another tenant: not found; a key without admin: forbidden.
		if p := decode[map[string]any](t, b.send(t, "DELETE", "/v1/secrets/FLY_TOKEN", "", other...), http.StatusNotFound); p["type"] != "urn:axontask:problem:secret-not-found" {
			t.Errorf("DELETE by another tenant: %v", p)
		}
		for _, c := range [][3]string{{"GET", "/v1/secrets", ""}, {"POST", "/v1/secrets", body}, {"DELETE", "/v1/secrets/FLY_TOKEN", ""}} {
			decode[map[string]any](t, b.do(t, c[0], c[1], tenantA, c[2]), http.StatusForbidden)
		}

		for body, field := range map[string]string{
			`{"name":"1BAD","value":"long enough"}`:                          "name",
			`{"name":"has-dash","value":"long enough"}`:                      "name",
			`{"name":"SHORT","value":"abc"}`:                                 "value",
			`{"name":"NUL","value":"abc\u0000def"}`:                          "value",
			`{"name":"BIG","value":"` + strings.Repeat("v", 64<<10+1) + `"}`: "value",
			`{"name":"X","value":"long enough","extra":1}`:                   "extra",
		} {
			if p := decode[map[string]any](t, b.send(t, "POST", "/v1/secrets", body, a...), http.StatusBadRequest); p["field"] != field {
				t.Errorf("POST %.60s: %v, want field %s", body, p, field)
			}
		}

		if resp := b.send(t, "DELETE", "/v1/secrets/FLY_TOKEN", "", a...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		decode[map[string]any](t, b.send(t, "DELETE", "/v1/secrets/FLY_TOKEN", "", a...), http.StatusNotFound)
		decode[map[string]any](t, b.send(t, "DELETE", "/v1/secrets/no-such-name", "", a...), http.StatusNotFound)

		const want = "secret.created secret.rotated secret.deleted"
		testwait.For(t, "the feed to record FLY_TOKEN's changes", func() bool {
			page := decode[map[string]any](t, b.send(t, "GET", "/v1/events?limit=1000", "", a...), http.StatusOK)
			var types []string
			for _, e := range page["events"].([]any) {
				ev := e.(map[string]any)
				if ev["stream_type"] == "secret" && ev["payload"].(map[string]any)["name"] == "FLY_TOKEN" {
					types = append(types, ev["type"].(string))
				}
			}
			return strings.Join(types, " ") == want
		})

		// The tenant's count limit.
		for i := range domain.MaxSecretsPerTenant {
			decode[secretInfo](t, b.send(t, "POST", "/v1/secrets", `{"name":"S`+itoa(int64(i))+`","value":"value"}`, a...), http.StatusCreated)
		}
		decode[map[string]any](t, b.send(t, "POST", "/v1/secrets", `{"name":"ONE_TOO_MANY","value":"value"}`, a...), http.StatusConflict)
		decode[secretInfo](t, b.send(t, "POST", "/v1/secrets", `{"name":"S0","value":"new value"}`, a...), http.StatusCreated) // a rotation still works

	})
}

// TestSecretsWithoutKey: a server without an operator key lists and
// deletes secrets but sets none, answering 503 with what the operator must
// do.
func TestSecretsWithoutKey(t *testing.T) {
	t.Parallel()
	b := bundleOn(t, teststores.Engines[0], setupOpts{noSecretsKey: true})
	_, key, err := testidentity.Tenant(t.Context(), b.identity, "nokey-admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	a := []string{"Authorization", "Bearer " + key}
	p := decode[map[string]any](t, b.send(t, "POST", "/v1/secrets", `{"name":"A","value":"some value"}`, a...), http.StatusServiceUnavailable)
	if p["type"] != "urn:axontask:problem:secrets-not-enabled" || !strings.Contains(p["detail"].(string), "SECRETS_KEY") {
		t.Fatalf("POST without a key: %v", p)
	}
	if l := decode[secretList](t, b.send(t, "GET", "/v1/secrets", "", a...), http.StatusOK); len(l.Secrets) != 0 {
		t.Fatalf("listed %v", l)
	}
}
