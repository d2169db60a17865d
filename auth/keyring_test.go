package auth

import (
	"bytes"
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
	if got, _ := k.key("old"); !bytes.Equal(got, accessKey(t, s1)) {
		t.Fatal("the key of old is not the one derived from its secret")
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
	want := accessKey(t, string(secret))
	secret[0] = 'X'
	if got, _ := k.key("k"); !bytes.Equal(got, want) {
		t.Fatal("the keyring's key changed with the caller's secret slice")
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

// accessKey returns the access token key derived from secret.
func accessKey(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := deriveKey([]byte(secret), accessTokenLabel)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// The keys a secret gives are 32 bytes, differ by purpose and from the
// secret, and do not depend on anything but the secret: an access token
// key is never a resume token key, and every process derives the same.
func TestDerivedKeys(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", MinSecretLength)
	access := accessKey(t, secret)
	resume, err := ResumeTokenKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := ResumeTokenKey([]byte(secret))
	other, _ := ResumeTokenKey([]byte(strings.Repeat("t", MinSecretLength)))
	switch {
	case len(access) != 32 || len(resume) != 32:
		t.Fatalf("key lengths %d and %d, want 32", len(access), len(resume))
	case bytes.Equal(access, resume):
		t.Fatal("access and resume token keys are the same")
	case bytes.Contains(access, []byte(secret[:8])) || bytes.Contains(resume, []byte(secret[:8])):
		t.Fatal("a key holds the secret")
	case !bytes.Equal(resume, again):
		t.Fatal("ResumeTokenKey is not deterministic")
	case bytes.Equal(resume, other):
		t.Fatal("two secrets give the same resume token key")
	}
	for _, bad := range []string{"", "q1w2e", strings.Repeat("x", MinSecretLength-1), strings.Repeat("x", maxSecretLength+1)} {
		if _, err := ResumeTokenKey([]byte(bad)); err == nil {
			t.Errorf("ResumeTokenKey accepted a %d-byte secret", len(bad))
		} else if len(bad) >= 5 && strings.Contains(err.Error(), bad[:5]) {
			t.Errorf("error %q leaks the secret", err)
		}
	}
}
