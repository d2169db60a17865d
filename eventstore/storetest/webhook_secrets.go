package storetest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// testWebhookSecrets: secrets are written once, read by id, deleted per
// endpoint, isolated between endpoints, and are no events.
func testWebhookSecrets(t *testing.T, newStore Opener[WebhookSecretStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	one, two, other := []byte("secret-one-0123456789abcdef"), []byte("secret-two-0123456789abcdef"), []byte("another endpoint")
	for _, p := range []struct {
		id, secretID string
		secret       []byte
	}{{"wh-1", "s1", one}, {"wh-1", "s2", two}, {"wh-2", "s1", other}} {
		if err := s.WebhookSecretPut(ctx, p.id, p.secretID, p.secret); err != nil {
			t.Fatalf("WebhookSecretPut(%s, %s): %v", p.id, p.secretID, err)
		}
	}
	if err := s.WebhookSecretPut(ctx, "wh-1", "s2", other); !errors.Is(err, eventstore.ErrSecretIDTaken) {
		t.Fatalf("an id put twice: %v, want ErrSecretIDTaken", err)
	}
	got, err := s.WebhookSecretGet(ctx, "wh-1", []string{"s1", "s2", "s3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got["s1"], one) || !bytes.Equal(got["s2"], two) {
		t.Fatalf("WebhookSecretGet(wh-1, [s1 s2 s3]) = %d secrets, want s1 and s2 as put (the first put of s2 kept)", len(got))
	}
	if err := s.WebhookSecretDelete(ctx, "wh-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.WebhookSecretGet(ctx, "wh-1", []string{"s1", "s2"}); err != nil || len(got) != 0 {
		t.Fatalf("after WebhookSecretDelete: %d secrets, %v; want none", len(got), err)
	}
	if got, err := s.WebhookSecretGet(ctx, "wh-2", []string{"s1"}); err != nil || !bytes.Equal(got["s1"], other) {
		t.Fatalf("another endpoint's secret after the delete: %v", err)
	}
	if err := s.WebhookSecretDelete(ctx, "wh-none"); err != nil {
		t.Fatalf("deleting no secrets: %v", err)
	}
	// Not events: the feed holds nothing.
	expectFeedLen(t, s, 0)
}

// testWebhookSecretsInvalid: bad ids and secrets are validation
// errors that write nothing.
func testWebhookSecretsInvalid(t *testing.T, newStore Opener[WebhookSecretStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	for name, put := range map[string]func() error{
		"empty id":        func() error { return s.WebhookSecretPut(ctx, "", "s1", []byte("x")) },
		"empty secret id": func() error { return s.WebhookSecretPut(ctx, "wh", "", []byte("x")) },
		"no secret":       func() error { return s.WebhookSecretPut(ctx, "wh", "s1", []byte{}) },
		"long secret": func() error {
			return s.WebhookSecretPut(ctx, "wh", "s1", make([]byte, eventstore.MaxWebhookSecretLen+1))
		},
		"get a bad id": func() error {
			_, err := s.WebhookSecretGet(ctx, "wh", []string{"a\nb"})
			return err
		},
	} {
		var ve *domain.ValidationError
		if err := put(); !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a *domain.ValidationError", name, err)
		}
	}
	if got, _ := s.WebhookSecretGet(ctx, "wh", []string{"s1"}); len(got) != 0 {
		t.Errorf("an invalid put wrote a secret")
	}
}

// testWebhookSecretsConcurrent: of concurrent puts of one id exactly
// one wins, and its secret is the one stored.
func testWebhookSecretsConcurrent(t *testing.T, newStore Opener[WebhookSecretStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	var wg sync.WaitGroup
	var won atomic.Int64
	var winner atomic.Value
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret := []byte{byte('a' + i)}
			err := s.WebhookSecretPut(ctx, "wh", "s3", secret)
			switch {
			case err == nil:
				won.Add(1)
				winner.Store(secret)
			case !errors.Is(err, eventstore.ErrSecretIDTaken):
				t.Errorf("a concurrent put: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := s.WebhookSecretGet(ctx, "wh", []string{"s3"})
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := winner.Load().([]byte); won.Load() != 1 || !bytes.Equal(got["s3"], w) {
		t.Fatalf("%d of 8 concurrent puts won; stored %q, the winner put %q", won.Load(), got["s3"], w)
	}
}

func testWebhookSecretsClosed(t *testing.T, newStore Opener[WebhookSecretStore]) {
	s := closedStore(t, newStore)
	ctx := t.Context()
	checkClosedCalls(t, map[string]func() error{
		"WebhookSecretPut": func() error { return s.WebhookSecretPut(ctx, "wh", "s1", []byte("x")) },
		"WebhookSecretGet": func() error {
			_, err := s.WebhookSecretGet(ctx, "wh", []string{"s1"})
			return err
		},
		"WebhookSecretDelete": func() error { return s.WebhookSecretDelete(ctx, "wh") },
	})
}
