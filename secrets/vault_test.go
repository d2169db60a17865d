package secrets_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/secrets"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func newKey(t *testing.T) secrets.Key {
	t.Helper()
	k, _, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// forEngine runs f against a fresh store of each engine.
func forEngine(t *testing.T, f func(t *testing.T, s teststores.Store)) {
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, e.Open(t, eventstore.Options{}))
		})
	}
}

// TestRoundTrip: a value set is resolved as it was given, set again it is
// replaced, and the store holds it only sealed.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, s teststores.Store) {
		ctx := t.Context()
		v := secrets.NewVault(s, secrets.NewKeyring(newKey(t)), nil)
		if created, err := v.Set(ctx, "t1", "FLY_TOKEN", []byte("fo1_first-value")); err != nil || !created {
			t.Fatalf("Set = %v, %v; want created", created, err)
		}
		if created, err := v.Set(ctx, "t1", "FLY_TOKEN", []byte("fo1_second-value")); err != nil || created {
			t.Fatalf("Set again = %v, %v; want a rotation", created, err)
		}
		got, err := v.Resolve(ctx, "t1", []string{"FLY_TOKEN"})
		if err != nil || got["FLY_TOKEN"] != "fo1_second-value" {
			t.Fatalf("Resolve = %v, %v", got, err)
		}
		raw, err := s.TenantSecretUse(ctx, "t1", []string{"FLY_TOKEN"}, time.Now())
		if err != nil || len(raw) != 1 {
			t.Fatal(err)
		}
		if bytes.Contains(raw[0].ValueSealed, []byte("second-value")) || bytes.Contains(raw[0].KeySealed, []byte("second-value")) {
			t.Fatal("the stored row holds the value in the clear")
		}
		list, err := v.List(ctx, "t1")
		if err != nil || len(list) != 1 || list[0].LastUsedAt.IsZero() {
			t.Fatalf("List after Resolve = %+v, %v; want FLY_TOKEN marked used", list, err)
		}
		_, err = v.Resolve(ctx, "t1", []string{"FLY_TOKEN", "NOPE", "ALSO_NOPE"})
		var missing *secrets.MissingError
		if !errors.As(err, &missing) || len(missing.Names) != 2 || !strings.Contains(err.Error(), "POST /v1/secrets") {
			t.Fatalf("Resolve of missing secrets = %v, want a *MissingError naming NOPE and ALSO_NOPE", err)
		}
	})
}

// TestBoundToTenantAndName: a sealed row copied to another tenant or name
// does not open.
func TestBoundToTenantAndName(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, s teststores.Store) {
		ctx := t.Context()
		v := secrets.NewVault(s, secrets.NewKeyring(newKey(t)), nil)
		if _, err := v.Set(ctx, "t1", "TOKEN", []byte("tenant-one-token")); err != nil {
			t.Fatal(err)
		}
		raw, err := s.TenantSecretUse(ctx, "t1", []string{"TOKEN"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []struct{ tenant, name string }{{"t2", "TOKEN"}, {"t1", "OTHER"}} {
			cp := raw[0]
			cp.TenantID, cp.Name = to.tenant, to.name
			if _, err := s.TenantSecretPut(ctx, cp, time.Now()); err != nil {
				t.Fatal(err)
			}
			got, err := v.Resolve(ctx, to.tenant, []string{to.name})
			if err == nil || strings.Contains(err.Error(), "tenant-one-token") {
				t.Fatalf("a row copied to %s/%s resolved: %v, %v", to.tenant, to.name, got, err)
			}
		}
	})
}

// TestRotateKey: after the operator key changes, secrets open with the old
// key given as previous; RotateKey re-seals them so that the new key alone
// opens them, and secrets set meanwhile are left alone.
func TestRotateKey(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, s teststores.Store) {
		ctx := t.Context()
		oldKey, newK := newKey(t), newKey(t)
		old := secrets.NewVault(s, secrets.NewKeyring(oldKey), nil)
		for i, name := range []string{"A_ONE", "B_TWO", "C_THREE"} {
			tenant := []string{"t1", "t2", "t1"}[i]
			if _, err := old.Set(ctx, tenant, name, []byte("value-of-"+name)); err != nil {
				t.Fatal(err)
			}
		}
		newOnly := secrets.NewVault(s, secrets.NewKeyring(newK), nil)
		if _, err := newOnly.Resolve(ctx, "t1", []string{"A_ONE"}); !errors.Is(err, secrets.ErrUnknownKey) {
			t.Fatalf("Resolve without the old key = %v, want ErrUnknownKey", err)
		}
		if _, err := newOnly.RotateKey(ctx); !errors.Is(err, secrets.ErrUnknownKey) {
			t.Fatalf("RotateKey without the old key = %v, want ErrUnknownKey", err)
		}
		both := secrets.NewVault(s, secrets.NewKeyring(newK, oldKey), nil)
		if got, err := both.Resolve(ctx, "t1", []string{"A_ONE", "C_THREE"}); err != nil || got["C_THREE"] != "value-of-C_THREE" {
			t.Fatalf("Resolve with the old key as previous = %v, %v", got, err)
		}
		if _, err := both.Set(ctx, "t2", "D_NEW", []byte("set-after-the-change")); err != nil {
			t.Fatal(err)
		}
		n, err := both.RotateKey(ctx)
		if err != nil || n != 3 {
			t.Fatalf("RotateKey = %d, %v; want 3 re-sealed", n, err)
		}
		if n, err := both.RotateKey(ctx); err != nil || n != 0 {
			t.Fatalf("RotateKey again = %d, %v; want nothing left", n, err)
		}
		got, err := newOnly.Resolve(ctx, "t2", []string{"B_TWO", "D_NEW"})
		if err != nil || got["B_TWO"] != "value-of-B_TWO" || got["D_NEW"] != "set-after-the-change" {
			t.Fatalf("Resolve with the new key alone after RotateKey = %v, %v", got, err)
		}
	})
}

// TestNotConfigured: without an operator key nothing is set or resolved,
// with an error that tells the operator what to do.
func TestNotConfigured(t *testing.T) {
	t.Parallel()
	s := teststores.Engines[0].Open(t, eventstore.Options{})
	v := secrets.NewVault(s, nil, nil)
	if _, err := v.Set(t.Context(), "t1", "A", []byte("value")); !errors.Is(err, secrets.ErrNotConfigured) || !strings.Contains(err.Error(), "SECRETS_KEY") {
		t.Fatalf("Set = %v, want ErrNotConfigured naming SECRETS_KEY", err)
	}
	if _, err := v.Resolve(t.Context(), "t1", []string{"A"}); !errors.Is(err, secrets.ErrNotConfigured) {
		t.Fatalf("Resolve = %v, want ErrNotConfigured", err)
	}
	if list, err := v.List(t.Context(), "t1"); err != nil || len(list) != 0 {
		t.Fatalf("List = %v, %v", list, err)
	}
}

// TestSetInvalid: bad names and values are validation errors that never
// quote the value.
func TestSetInvalid(t *testing.T) {
	t.Parallel()
	s := teststores.Engines[0].Open(t, eventstore.Options{})
	v := secrets.NewVault(s, secrets.NewKeyring(newKey(t)), nil)
	for name, c := range map[string]struct {
		name, value, field string
	}{
		"bad name":    {"1X", "long-enough", "name"},
		"short value": {"A", "abc", "value"},
		"nul":         {"A", "abc\x00defg", "value"},
		"too long":    {"A", strings.Repeat("v", domain.MaxSecretValueLen+1), "value"},
	} {
		_, err := v.Set(t.Context(), "t1", c.name, []byte(c.value))
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || strings.Contains(err.Error(), c.value) {
			t.Errorf("%s: Set = %v, want a *domain.ValidationError of %s that does not quote the value", name, err, c.field)
		}
	}
}

// TestParseKey: keys are 32 bytes in base64 or hex; errors never echo the
// text given; the id names the key.
func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{0xab}, secrets.KeyLen)
	hexKey := strings.Repeat("ab", secrets.KeyLen)
	a, err := secrets.ParseKey("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=")
	if err != nil {
		t.Fatal(err)
	}
	b, err := secrets.ParseKey(hexKey)
	if err != nil || a.ID() != b.ID() || a.ID() != secrets.NewKey(raw).ID() || len(a.ID()) != 16 {
		t.Fatalf("the same key in base64 and hex: ids %q and %q, %v", a.ID(), b.ID(), err)
	}
	if _, err := secrets.ParseKey("too-short-secret-text"); err == nil || strings.Contains(err.Error(), "too-short-secret-text") {
		t.Fatalf("ParseKey of a bad key = %v, want an error that does not echo it", err)
	}
}
