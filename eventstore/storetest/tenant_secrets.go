package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

func sealed(tenant, name, keyID, value string) eventstore.SealedSecret {
	return eventstore.SealedSecret{TenantID: tenant, Name: name, KeyID: keyID, KeySealed: []byte("key-of-" + value), ValueSealed: []byte(value)}
}

// testTenantSecrets: a put creates then replaces (keeping the creation
// time), lists show names and times, use returns what is stored and marks
// it used, delete deletes, tenants are isolated, and none of it is events.
func testTenantSecrets(t *testing.T, newStore Opener[TenantSecretStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	put := func(sec eventstore.SealedSecret, at time.Time, wantCreated bool) {
		t.Helper()
		created, err := s.TenantSecretPut(ctx, sec, at)
		if err != nil || created != wantCreated {
			t.Fatalf("TenantSecretPut(%s/%s) = %v, %v; want created %v", sec.TenantID, sec.Name, created, err, wantCreated)
		}
	}
	put(sealed("t1", "FLY_TOKEN", "k1", "v1"), t0, true)
	put(sealed("t1", "A_FIRST", "k1", "a"), t0, true)
	put(sealed("t2", "FLY_TOKEN", "k1", "other tenant"), t0, true)
	put(sealed("t1", "FLY_TOKEN", "k1", "v2"), t0.Add(time.Hour), false)

	list, err := s.TenantSecretList(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	want := []eventstore.SecretInfo{
		{Name: "A_FIRST", CreatedAt: t0, UpdatedAt: t0},
		{Name: "FLY_TOKEN", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)},
	}
	if len(list) != len(want) || list[0] != want[0] || list[1] != want[1] {
		t.Fatalf("TenantSecretList(t1) = %+v, want %+v", list, want)
	}

	used, err := s.TenantSecretUse(ctx, "t1", []string{"FLY_TOKEN", "MISSING"}, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 1 || used[0].Name != "FLY_TOKEN" || !bytes.Equal(used[0].ValueSealed, []byte("v2")) || used[0].TenantID != "t1" || used[0].KeyID != "k1" {
		t.Fatalf("TenantSecretUse(t1, FLY_TOKEN MISSING) = %+v, want FLY_TOKEN's second value", used)
	}
	list, _ = s.TenantSecretList(ctx, "t1")
	if !list[1].LastUsedAt.Equal(t0.Add(2*time.Hour)) || !list[0].LastUsedAt.IsZero() {
		t.Fatalf("last used after TenantSecretUse: %+v", list)
	}
	if used, err := s.TenantSecretUse(ctx, "t1", nil, t0); err != nil || len(used) != 0 {
		t.Fatalf("TenantSecretUse of no names = %v, %v; want none", used, err)
	}

	if ok, err := s.TenantSecretDelete(ctx, "t1", "FLY_TOKEN"); err != nil || !ok {
		t.Fatalf("TenantSecretDelete = %v, %v; want deleted", ok, err)
	}
	if ok, err := s.TenantSecretDelete(ctx, "t1", "FLY_TOKEN"); err != nil || ok {
		t.Fatalf("TenantSecretDelete again = %v, %v; want not deleted", ok, err)
	}
	other, err := s.TenantSecretUse(ctx, "t2", []string{"FLY_TOKEN"}, t0)
	if err != nil || len(other) != 1 || string(other[0].ValueSealed) != "other tenant" {
		t.Fatalf("the other tenant's secret after the delete: %+v, %v", other, err)
	}
	expectFeedLen(t, s, 0)
}

// testTenantSecretsReseal: the rows of other operator keys are listed
// without values, and a re-seal replaces a data key only while it is the
// one read.
func testTenantSecretsReseal(t *testing.T, newStore Opener[TenantSecretStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, sec := range []eventstore.SealedSecret{sealed("t1", "OLD_A", "old", "a"), sealed("t2", "OLD_B", "old", "b"), sealed("t1", "NEW_C", "new", "c")} {
		if _, err := s.TenantSecretPut(ctx, sec, now); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.TenantSecretSealedByOthers(ctx, "new", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Name != "OLD_A" || page[1].Name != "OLD_B" || page[0].ValueSealed != nil || !bytes.Equal(page[0].KeySealed, []byte("key-of-a")) {
		t.Fatalf("TenantSecretSealedByOthers(new) = %+v, want OLD_A and OLD_B without values", page)
	}
	if one, _ := s.TenantSecretSealedByOthers(ctx, "new", 1); len(one) != 1 {
		t.Fatalf("limit 1 gave %d rows", len(one))
	}
	if ok, err := s.TenantSecretReseal(ctx, page[0], "new", []byte("resealed-a")); err != nil || !ok {
		t.Fatalf("TenantSecretReseal = %v, %v; want replaced", ok, err)
	}
	// OLD_B's value is set meanwhile: the stale re-seal leaves it alone.
	if _, err := s.TenantSecretPut(ctx, sealed("t2", "OLD_B", "new", "b2"), now); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.TenantSecretReseal(ctx, page[1], "new", []byte("stale")); err != nil || ok {
		t.Fatalf("a stale TenantSecretReseal = %v, %v; want not replaced", ok, err)
	}
	if rest, err := s.TenantSecretSealedByOthers(ctx, "new", 10); err != nil || len(rest) != 0 {
		t.Fatalf("after re-sealing: %+v, %v; want none left", rest, err)
	}
	got, _ := s.TenantSecretUse(ctx, "t1", []string{"OLD_A"}, now)
	if len(got) != 1 || got[0].KeyID != "new" || string(got[0].KeySealed) != "resealed-a" || string(got[0].ValueSealed) != "a" {
		t.Fatalf("OLD_A after re-sealing = %+v", got)
	}
}

// testTenantSecretsInvalid: bad names, ids and sizes are validation
// errors that write nothing.
func testTenantSecretsInvalid(t *testing.T, newStore Opener[TenantSecretStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	now := time.Now()
	big := sealed("t1", "BIG", "k", "")
	big.ValueSealed = make([]byte, eventstore.MaxSealedSecretLen+1)
	for name, sec := range map[string]eventstore.SealedSecret{
		"bad name":    sealed("t1", "1BAD", "k", "v"),
		"empty name":  sealed("t1", "", "k", "v"),
		"no tenant":   sealed("", "NAME", "k", "v"),
		"no key id":   sealed("t1", "NAME", "", "v"),
		"empty value": sealed("t1", "NAME", "k", ""),
		"too big":     big,
	} {
		var ve *domain.ValidationError
		if _, err := s.TenantSecretPut(ctx, sec, now); !errors.As(err, &ve) {
			t.Errorf("%s: TenantSecretPut = %v, want a *domain.ValidationError", name, err)
		}
	}
	if _, err := s.TenantSecretUse(ctx, "t1", []string{"no-dashes"}, now); err == nil {
		t.Error("TenantSecretUse of an invalid name: no error")
	}
	if list, err := s.TenantSecretList(ctx, "t1"); err != nil || len(list) != 0 {
		t.Fatalf("after invalid puts: %+v, %v; want nothing stored", list, err)
	}
}

func testTenantSecretsClosed(t *testing.T, newStore Opener[TenantSecretStore]) {
	s := closedStore(t, newStore)
	ctx := t.Context()
	now := time.Now()
	checkClosedCalls(t, map[string]func() error{
		"TenantSecretPut": func() error {
			_, err := s.TenantSecretPut(ctx, sealed("t1", "N", "k", "v"), now)
			return err
		},
		"TenantSecretList": func() error {
			_, err := s.TenantSecretList(ctx, "t1")
			return err
		},
		"TenantSecretUse": func() error {
			_, err := s.TenantSecretUse(ctx, "t1", []string{"N"}, now)
			return err
		},
		"TenantSecretDelete": func() error {
			_, err := s.TenantSecretDelete(ctx, "t1", "N")
			return err
		},
		"TenantSecretSealedByOthers": func() error {
			_, err := s.TenantSecretSealedByOthers(ctx, "k", 1)
			return err
		},
		"TenantSecretReseal": func() error {
			_, err := s.TenantSecretReseal(ctx, sealed("t1", "N", "k", "v"), "k2", []byte("x"))
			return err
		},
	})
}
