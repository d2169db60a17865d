package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
)

// The webhook calls through the SDK: create (the secret once), list, get,
// change, rotate, test, the delivery log, redeliver, delete; errors map to
// the SDK's, and printing an endpoint shows no secret.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		c := b.client(t, "", client.WithToken(b.owners[tenantA].AccessToken))
		created, err := c.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://hooks.example.com/a", Events: []string{"task.*"}})
		if err != nil || !strings.HasPrefix(created.Secret, "whsec_") || !created.Enabled {
			t.Fatalf("created %+v, %v", created, err)
		}
		checkPrintsNoSecret(t, created, created.Secret)
		if _, err := c.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://127.0.0.1/"}); !errors.Is(err, client.ErrInvalidInput) || apiError(t, err, 400).Field != "url" {
			t.Fatalf("a loopback URL: %v", err)
		}
		list, err := c.ListWebhooks(ctx)
		if err != nil || len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("listed %+v, %v", list, err)
		}
		off := false
		changed, err := c.ChangeWebhook(ctx, created.ID, api.ChangeWebhookRequest{Enabled: &off})
		if err != nil || changed.Enabled {
			t.Fatalf("changed %+v, %v", changed, err)
		}
		rotated, err := c.RotateWebhookSecret(ctx, created.ID)
		if err != nil || rotated.Secret == created.Secret || rotated.PreviousSecretValidUntil.Before(time.Now()) {
			t.Fatalf("rotated %+v, %v", rotated, err)
		}
		sent, err := c.SendWebhookTestEvent(ctx, created.ID)
		if err != nil || !strings.HasPrefix(sent.DeliveryID, "msg_") {
			t.Fatalf("test event %+v, %v", sent, err)
		}
		if page, err := c.ListWebhookDeliveries(ctx, created.ID, 0, 10); err != nil || page.Deliveries == nil {
			t.Fatalf("delivery log %+v, %v", page, err)
		}
		if n, err := c.RedeliverWebhook(ctx, created.ID, api.RedeliverRequest{Since: api.Time{Time: time.Now().Add(-time.Hour)}}); err != nil || n != 0 {
			t.Fatalf("redeliver: %d, %v", n, err)
		}
		other := b.client(t, "", client.WithToken(b.owners[tenantB].AccessToken))
		if _, err := other.GetWebhook(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("another tenant's endpoint: %v", err)
		}
		if _, err := b.client(t, tenantA).ListWebhooks(ctx); !errors.Is(err, client.ErrForbidden) {
			t.Fatalf("a tasks key: %v", err)
		}
		if err := c.DeleteWebhook(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetWebhook(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("a deleted endpoint: %v", err)
		}
	})
}
