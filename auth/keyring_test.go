package auth

import (
	"slices"
	"strings"
	"testing"
)

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	s1, s2 := strings.Repeat("a", 32), strings.Repeat("b", 40)
	k, err := ParseKeyring("new:" + s2 + ", old:" + s1)
	if err != nil {
		t.Fatal(err)
	}
	if k.CurrentKID() != "new" || !slices.Equal(k.KIDs(), []string{"new", "old"}) {
		t.Fatalf("current %q, kids %v", k.CurrentKID(), k.KIDs())
	}
	if got, _ := k.secret("old"); string(got) != s1 {
		t.Fatal("secret of old not kept")
	}
	// A secret may contain colons: only the first one separates the kid.
	if _, err := ParseKeyring("k:" + s1 + ":more"); err != nil {
		t.Fatalf("secret with a colon: %v", err)
	}

	bad := []struct{ name, spec string }{
		{"empty", ""},
		{"blank", "  "},
		{"no kid", s1},
		{"empty kid", ":" + s1},
		{"short secret", "k:short-secret"},
		{"31-byte secret", "k:" + strings.Repeat("x", 31)},
		{"long secret", "k:" + strings.Repeat("x", 1025)},
		{"duplicate kid", "k:" + s1 + ",k:" + s2},
		{"bad kid characters", "k id:" + s1},
		{"long kid", strings.Repeat("k", 65) + ":" + s1},
		{"empty entry", "k:" + s1 + ","},
		{"too many keys", strings.Repeat("k:"+s1+",", 16) + "k:" + s1},
		{"huge spec", "k:" + strings.Repeat("x", 40000)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseKeyring(tc.spec)
			if err == nil {
				t.Fatal("ParseKeyring accepted a bad spec")
			}
			if strings.Contains(err.Error(), s1[:8]) || strings.Contains(err.Error(), s2[:8]) || strings.Contains(err.Error(), "short-secret") {
				t.Fatalf("error %q leaks a secret", err)
			}
		})
	}
}

func TestNewKeyring(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("s", 32))
	if _, err := NewKeyring("k", map[string][]byte{"k": secret}); err != nil {
		t.Fatal(err)
	}
	k, err := NewKeyring("k", map[string][]byte{"k": secret})
	if err != nil {
		t.Fatal(err)
	}
	secret[0] = 'X'
	if got, _ := k.secret("k"); got[0] != 's' {
		t.Fatal("keyring shares the caller's secret slice")
	}
	bad := []struct {
		name    string
		current string
		keys    map[string][]byte
	}{
		{"no keys", "k", nil},
		{"current missing", "other", map[string][]byte{"k": secret}},
		{"short secret", "k", map[string][]byte{"k": []byte("short")}},
		{"bad kid", "k/1", map[string][]byte{"k/1": secret}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewKeyring(tc.current, tc.keys); err == nil {
				t.Fatal("NewKeyring accepted a bad ring")
			}
		})
	}
}
