package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestRefreshTokenRoundTrip(t *testing.T) {
	t.Parallel()
	session := uuid.MustParse("0190d2a4-6c1e-7b3a-9f00-00000000abcd")
	tok, hash, err := NewRefreshToken(session)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "axr_0190d2a46c1e7b3a9f0000000000abcd.") {
		t.Fatalf("token %q does not carry its session", tok)
	}
	if len(tok) != RefreshTokenLength || !strings.HasPrefix(tok, "axr_") || len(hash) != 32 {
		t.Fatalf("token %q or hash has the wrong shape", tok)
	}
	gotSession, got, err := ParseRefreshToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if gotSession != session {
		t.Fatalf("ParseRefreshToken session = %s, want %s", gotSession, session)
	}
	if !bytes.Equal(got, hash) || !bytes.Equal(RefreshTokenHash(tok), hash) {
		t.Fatal("ParseRefreshToken does not give back the stored hash")
	}
	tok2, hash2, err := NewRefreshToken(session)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok || bytes.Equal(hash, hash2) {
		t.Fatal("two refresh tokens are equal: not random")
	}
	if ClassifyBearer(tok) != BearerUnknown {
		t.Fatal("a refresh token passes as a bearer credential")
	}
}

func TestParseRefreshTokenRejects(t *testing.T) {
	t.Parallel()
	tok, _, err := NewRefreshToken(uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	body := tok[4:]
	secret := tok[len(tok)-43:]
	// The last of 43 characters carries 2 unused bits; "B" sets one.
	nonCanonical := tok[:len(tok)-1] + "B"
	if strings.IndexByte("AEIMQUYcgkosw048", tok[len(tok)-1]) < 0 {
		t.Fatalf("last character %q carries set unused bits", tok[len(tok)-1])
	}
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"prefix only", "axr_"},
		{"api key prefix", "axt_" + body},
		{"no prefix", body},
		{"upper-case prefix", "AXR_" + body},
		{"short", tok[:len(tok)-1]},
		{"long", tok + "A"},
		{"padded", tok[:len(tok)-1] + "="},
		{"standard alphabet", tok[:len(tok)-1] + "+"},
		{"newline", tok[:10] + "\n" + tok[11:]},
		{"upper-case session", "axr_" + strings.ToUpper(tok[4:36]) + tok[36:]},
		{"no dot", tok[:36] + "_" + tok[37:]},
		{"space", tok[:10] + " " + tok[11:]},
		{"non-canonical", nonCanonical},
		{"huge", "axr_" + strings.Repeat("A", 1<<16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, h, err := ParseRefreshToken(tc.token)
			if !errors.Is(err, ErrMalformedRefreshToken) || h != nil {
				t.Fatalf("ParseRefreshToken = (%x, %v), want ErrMalformedRefreshToken", h, err)
			}
			if strings.Contains(err.Error(), secret[:10]) {
				t.Fatal("error leaks the token")
			}
		})
	}
}

// FuzzParseRefreshToken: refresh tokens are outside input. ParseRefreshToken
// never panics and accepts only the canonical form NewRefreshToken writes:
// the session and the secret's bytes re-encoded rebuild the input, whose
// hash it returns, and which is never taken for a bearer credential.
func FuzzParseRefreshToken(f *testing.F) {
	tok, _, err := NewRefreshToken(uuid.New())
	if err != nil {
		f.Fatal(err)
	}
	// The edge cases are in testdata/fuzz/FuzzParseRefreshToken.
	f.Add(tok)
	f.Fuzz(func(t *testing.T, s string) {
		session, hash, err := ParseRefreshToken(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedRefreshToken) {
				t.Fatalf("ParseRefreshToken(%q): %v does not wrap ErrMalformedRefreshToken", s, err)
			}
			return
		}
		_, secret, _ := strings.Cut(s, ".")
		raw, err := b64url.DecodeString(secret)
		if err != nil || RefreshTokenPrefix+hex.EncodeToString(session[:])+"."+b64url.EncodeToString(raw) != s {
			t.Fatalf("ParseRefreshToken(%q) accepted a token that is not canonical", s)
		}
		if !bytes.Equal(hash, RefreshTokenHash(s)) || ClassifyBearer(s) != BearerUnknown {
			t.Fatalf("ParseRefreshToken(%q): hash %x, bearer kind %s", s, hash, ClassifyBearer(s))
		}
	})
}
