package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRefreshTokenRoundTrip(t *testing.T) {
	t.Parallel()
	tok, hash, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != RefreshTokenLength || !strings.HasPrefix(tok, "axr_") || len(hash) != 32 {
		t.Fatalf("token %q or hash has the wrong shape", tok)
	}
	got, err := ParseRefreshToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, hash) || !bytes.Equal(RefreshTokenHash(tok), hash) {
		t.Fatal("ParseRefreshToken does not give back the stored hash")
	}
	tok2, hash2, err := NewRefreshToken()
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
	tok, _, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	body := tok[4:]
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
		{"space", tok[:10] + " " + tok[11:]},
		{"non-canonical", nonCanonical},
		{"huge", "axr_" + strings.Repeat("A", 1<<16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := ParseRefreshToken(tc.token)
			if !errors.Is(err, ErrMalformedRefreshToken) || h != nil {
				t.Fatalf("ParseRefreshToken = (%x, %v), want ErrMalformedRefreshToken", h, err)
			}
			if strings.Contains(err.Error(), body[:10]) {
				t.Fatal("error leaks the token")
			}
		})
	}
}
