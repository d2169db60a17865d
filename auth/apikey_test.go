package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNewAPIKeyRoundTrip(t *testing.T) {
	t.Parallel()
	plain, prefix, hash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != APIKeyLength || !strings.HasPrefix(plain, "axt_"+prefix+"_") || len(prefix) != 12 {
		t.Fatalf("key %q / prefix %q has the wrong shape", plain, prefix)
	}
	gotPrefix, secret, err := ParseAPIKey(plain)
	if err != nil {
		t.Fatal(err)
	}
	if gotPrefix != prefix || !bytes.Equal(APIKeyHash(secret), hash) || len(hash) != 32 {
		t.Fatal("ParseAPIKey does not give back the prefix and a secret matching the hash")
	}
	if !CheckAPIKey(hash, secret) {
		t.Fatal("CheckAPIKey refuses the right secret")
	}
	if ClassifyBearer(plain) != BearerAPIKey {
		t.Fatal("ClassifyBearer does not see an API key")
	}
	plain2, prefix2, hash2, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if plain2 == plain || prefix2 == prefix || bytes.Equal(hash, hash2) {
		t.Fatal("two keys share a part: not random")
	}
	_, secret2, _ := ParseAPIKey(plain2)
	for name, check := range map[string]bool{
		"other secret":    CheckAPIKey(hash, secret2),
		"empty secret":    CheckAPIKey(hash, ""),
		"nil hash":        CheckAPIKey(nil, secret),
		"truncated hash":  CheckAPIKey(hash[:31], secret),
		"hash of nothing": CheckAPIKey(APIKeyHash(""), secret),
	} {
		if check {
			t.Errorf("CheckAPIKey accepts %s", name)
		}
	}
}

func TestParseAPIKeyRejects(t *testing.T) {
	t.Parallel()
	plain, _, _, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	prefix, secret := plain[4:16], plain[17:]
	// The secret's last character carries 1 used and 4 unused bits, so it
	// is "a" or "q"; "b" sets an unused bit.
	if secret[51] != 'a' && secret[51] != 'q' {
		t.Fatalf("last character %q sets unused bits", secret[51])
	}
	nonCanonical := secret[:51] + "b"
	tests := []struct{ name, key string }{
		{"empty", ""},
		{"prefix only", "axt_"},
		{"wrong scheme", "axr_" + plain[4:]},
		{"upper-case scheme", "AXT_" + plain[4:]},
		{"upper-case key", strings.ToUpper(plain)},
		{"missing separator", "axt_" + prefix + "-" + secret},
		{"short prefix", "axt_" + prefix[:11] + "_" + secret + "a"},
		{"long prefix", "axt_" + prefix + "a_" + secret[:51]},
		{"prefix out of alphabet", "axt_" + prefix[:11] + "1_" + secret},
		{"prefix with underscore", "axt_" + prefix[:11] + "__" + secret},
		{"short secret", plain[:len(plain)-1]},
		{"long secret", plain + "a"},
		{"secret out of alphabet", plain[:len(plain)-1] + "8"},
		{"secret with padding", plain[:len(plain)-1] + "="},
		{"secret with newline", plain[:40] + "\n" + plain[41:]},
		{"secret upper-case", "axt_" + prefix + "_" + strings.ToUpper(secret)},
		{"non-canonical secret", "axt_" + prefix + "_" + nonCanonical},
		{"leading space", " " + plain[:len(plain)-1]},
		{"trailing space", plain + " "},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.e30.sig"},
		{"huge", "axt_" + strings.Repeat("a", 1<<16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, s, err := ParseAPIKey(tc.key)
			if !errors.Is(err, ErrMalformedAPIKey) || p != "" || s != "" {
				t.Fatalf("ParseAPIKey = (%q, %q, %v), want ErrMalformedAPIKey", p, s, err)
			}
			if strings.Contains(err.Error(), secret[:10]) {
				t.Fatal("error leaks the secret")
			}
		})
	}
}

func TestClassifyBearer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token string
		want  BearerKind
	}{
		{"axt_abcdefghijkl_secret", BearerAPIKey},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln", BearerJWT},
		{"a.b.c", BearerJWT},
		{"axr_refresh", BearerUnknown},
		{"", BearerUnknown},
		{"a.b", BearerUnknown},
		{"a.b.c.d", BearerUnknown},
	}
	for _, tc := range tests {
		if got := ClassifyBearer(tc.token); got != tc.want {
			t.Errorf("ClassifyBearer(%q) = %v, want %v", tc.token, got, tc.want)
		}
	}
}

// FuzzParseAPIKey: API keys are outside input (bearer tokens). ParseAPIKey
// never panics and accepts only the canonical form NewAPIKey writes: the
// parts it returns, with the secret's bytes re-encoded, rebuild the input.
func FuzzParseAPIKey(f *testing.F) {
	plain, _, _, err := NewAPIKey()
	if err != nil {
		f.Fatal(err)
	}
	// The edge cases are in testdata/fuzz/FuzzParseAPIKey.
	f.Add(plain)
	f.Fuzz(func(t *testing.T, s string) {
		prefix, secret, err := ParseAPIKey(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedAPIKey) {
				t.Fatalf("ParseAPIKey(%q): %v does not wrap ErrMalformedAPIKey", s, err)
			}
			return
		}
		raw, err := b32.DecodeString(secret)
		if err != nil || len(raw) != apiKeySecretBytes || APIKeyPrefix+prefix+"_"+b32.EncodeToString(raw) != s || ClassifyBearer(s) != BearerAPIKey {
			t.Fatalf("ParseAPIKey(%q) accepted a key that is not canonical: prefix %q, secret %q", s, prefix, secret)
		}
	})
}
