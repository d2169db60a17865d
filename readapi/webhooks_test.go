package readapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/testwait"
)

type webhook struct {
	ID                       string   `json:"id"`
	URL                      string   `json:"url"`
	Events                   []string `json:"events"`
	Description              string   `json:"description"`
	Enabled                  bool     `json:"enabled"`
	Secret                   string   `json:"secret"`
	PreviousSecretValidUntil string   `json:"previous_secret_valid_until"`
	DisabledReason           string   `json:"disabled_reason"`
}

// TestWebhookEndpoints walks /v1/webhooks as a tenant's admin would:
// create (the secret shown once), list, get, change, rotate the secret,
// delete; other tenants see none of it, keys without admin may not, and
// URLs and filters are checked with the field named.
func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		admin, tenantOf := map[string][]string{}, map[string]string{}
		for _, label := range []string{tenantA, tenantB} {
			tokens, key, err := testidentity.Tenant(t.Context(), b.identity, label+"-admin", "admin")
			if err != nil {
				t.Fatal(err)
			}
			admin[label], tenantOf[label] = []string{"Authorization", "Bearer " + key}, tokens.TenantID
		}
		a := admin[tenantA]
		created := decode[webhook](t, b.send(t, "POST", "/v1/webhooks", `{"url":"https://hooks.example.com/a","description":"ci"}`, a...), http.StatusCreated)
		if !strings.HasPrefix(created.Secret, "whsec_") || !created.Enabled || len(created.Events) != 1 || created.Events[0] != "*" {
			t.Fatalf("created %+v, want a whsec_ secret, enabled, events [*]", created)
		}
		path := "/v1/webhooks/" + created.ID
		list := decode[struct {
			Webhooks []webhook `json:"webhooks"`
		}](t, b.send(t, "GET", "/v1/webhooks", "", a...), http.StatusOK)
		if len(list.Webhooks) != 1 || list.Webhooks[0].ID != created.ID || list.Webhooks[0].Secret != "" {
			t.Fatalf("listed %+v, want the one endpoint without its secret", list.Webhooks)
		}
		// Disabled by the delivery side, as the sender does on a 410 (by
		// "system"): the API says why, and the tenant's feed carries it.
		stream := eventstore.Stream{ID: created.ID, Type: domain.StreamWebhook, TenantID: tenantOf[tenantA]}
		var w domain.Webhook
		if err := commands.Load(t.Context(), b.store, stream, &w); err != nil {
			t.Fatal(err)
		}
		if _, err := commands.Update(t.Context(), commands.Writer{Store: b.store}, commands.Target{Stream: stream, Meta: domain.Metadata{Actor: "system"}}, &w,
			func(w *domain.Webhook) ([]domain.Payload, error) {
				return w.DecideDisable("the receiver answered 410 Gone"), nil
			}); err != nil {
			t.Fatal(err)
		}
		if got := decode[webhook](t, b.send(t, "GET", path, "", a...), http.StatusOK); got.Enabled || got.DisabledReason != "the receiver answered 410 Gone" {
			t.Fatalf("after the delivery side disabled it: %+v, want disabled saying why", got)
		}
		testwait.For(t, "webhook.disabled in the tenant's feed", func() bool {
			feed := decode[tenantEventsPage](t, b.send(t, "GET", "/v1/events?stream_type=webhook&limit=100", "", a...), http.StatusOK)
			return slices.ContainsFunc(feed.Events, func(e domainEvent) bool { return e.Type == domain.WebhookDisabledType && e.StreamID == created.ID })
		})
		changed := decode[webhook](t, b.send(t, "PATCH", path, `{"events":["task.succeeded","task.*","usage.*","secret.*"],"enabled":false}`, a...), http.StatusOK)
		if changed.Enabled || strings.Join(changed.Events, ",") != "secret.*,task.*,task.succeeded,usage.*" || changed.Description != "ci" || changed.Secret != "" {
			t.Fatalf("changed %+v", changed)
		}
		rotated := decode[webhook](t, b.send(t, "POST", path+"/rotate-secret", "", a...), http.StatusOK)
		if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret || rotated.PreviousSecretValidUntil == "" {
			t.Fatalf("rotated %+v, want a new secret and the old one's end", rotated)
		}
		got := decode[webhook](t, b.send(t, "GET", path, "", a...), http.StatusOK)
		if got.Enabled || got.Secret != "" || got.PreviousSecretValidUntil != "" {
			t.Fatalf("got %+v", got)
		}

		// Another tenant: not found, whatever it asks; nothing listed.
		bAdmin := admin[tenantB]
		for _, call := range [][2]string{{"GET", path}, {"PATCH", path}, {"DELETE", path}, {"POST", path + "/rotate-secret"}} {
			body := ""
			if call[0] == "PATCH" {
				body = `{"enabled":true}`
			}
			if p := decode[map[string]any](t, b.send(t, call[0], call[1], body, bAdmin...), http.StatusNotFound); p["type"] != "urn:axontask:problem:webhook-not-found" {
				t.Errorf("%s %s by another tenant: %v", call[0], call[1], p)
			}
		}
		if l := decode[struct {
			Webhooks []webhook `json:"webhooks"`
		}](t, b.send(t, "GET", "/v1/webhooks", "", bAdmin...), http.StatusOK); len(l.Webhooks) != 0 {
			t.Errorf("another tenant lists %d endpoints", len(l.Webhooks))
		}
		// A key without admin may not.
		decode[map[string]any](t, b.do(t, "GET", "/v1/webhooks", tenantA, ""), http.StatusForbidden)

		for body, field := range map[string]string{
			`{"url":"https://127.0.0.1/hook"}`:                         "url",
			`{"url":"https://[::1]:8443/hook"}`:                        "url",
			`{"url":"https://169.254.169.254/latest"}`:                 "url",
			`{"url":"http://hooks.example.com/plain"}`:                 "url",
			`{"url":"https://hooks.example.com/","events":["user.*"]}`: "events",
			`{"url":"https://hooks.example.com/","secret":"mine"}`:     "secret",
		} {
			if p := decode[map[string]any](t, b.send(t, "POST", "/v1/webhooks", body, a...), http.StatusBadRequest); p["field"] != field {
				t.Errorf("POST %s: %v, want field %s", body, p, field)
			}
		}
		if p := decode[map[string]any](t, b.send(t, "PATCH", path, `{"url":"https://10.0.0.1/"}`, a...), http.StatusBadRequest); p["field"] != "url" {
			t.Errorf("PATCH to a private address: %v", p)
		}

		sent := decode[map[string]string](t, b.send(t, "POST", path+"/test", "", a...), http.StatusAccepted)
		if !strings.HasPrefix(sent["delivery_id"], "msg_") || sent["event_id"] == "" {
			t.Errorf("test event: %v", sent)
		}
		// Without a dispatcher in this bundle, the log is empty; the
		// webhooks package tests it filled.
		page := decode[map[string]any](t, b.send(t, "GET", path+"/deliveries?limit=10", "", a...), http.StatusOK)
		if ds, _ := page["deliveries"].([]any); len(ds) != 0 || page["next_before"] != nil {
			t.Errorf("delivery log %v", page)
		}
		decode[map[string]any](t, b.send(t, "GET", path+"/deliveries?limit=0", "", a...), http.StatusBadRequest)
		if n := decode[map[string]int](t, b.send(t, "POST", path+"/redeliver", `{"since":"2026-01-01T00:00:00Z"}`, a...), http.StatusAccepted); n["redelivered"] != 0 {
			t.Errorf("redelivered %v", n)
		}
		if p := decode[map[string]any](t, b.send(t, "POST", path+"/redeliver", `{}`, a...), http.StatusBadRequest); p["field"] != "delivery_id" {
			t.Errorf("redeliver nothing: %v", p)
		}
		decode[map[string]any](t, b.send(t, "GET", "/v1/webhooks/"+created.ID+"/deliveries", "", bAdmin...), http.StatusNotFound)

		if resp := b.send(t, "DELETE", path, "", a...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		decode[map[string]any](t, b.send(t, "GET", path, "", a...), http.StatusNotFound)
		decode[map[string]any](t, b.send(t, "DELETE", path, "", a...), http.StatusNotFound)
	})
}
