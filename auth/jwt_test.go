package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/axontask/axontask/domain"
)

var (
	secretK1 = []byte("k1-secret-k1-secret-k1-secret-k1-secret")
	secretK2 = []byte("k2-secret-k2-secret-k2-secret-k2-secret")
	secretK0 = []byte("k0-secret-retired-and-removed-from-ring")
	testNow  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type jwtBundle struct {
	issuer *Issuer
	ring   *Keyring
	now    time.Time
}

func setupJWT(t testing.TB) *jwtBundle {
	t.Helper()
	ring, err := NewKeyring("k2", map[string][]byte{"k1": secretK1, "k2": secretK2})
	if err != nil {
		t.Fatal(err)
	}
	b := &jwtBundle{ring: ring, now: testNow}
	b.issuer, err = NewIssuer(IssuerConfig{
		Keys: ring, Issuer: "https://axontask.test", Audience: "axontask-api",
		Expiry: 15 * time.Minute, NowFunc: func() time.Time { return b.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// key returns the ring's signing key of kid.
func (b *jwtBundle) key(t testing.TB, kid string) []byte {
	t.Helper()
	key, ok := b.ring.key(kid)
	if !ok {
		t.Fatalf("no key %q in the ring", kid)
	}
	return key
}

// resumeKey returns the resume token key of secret.
func resumeKey(t testing.TB, secret []byte) []byte {
	t.Helper()
	key, err := ResumeTokenKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// validClaims are the claims Issue would write at testNow.
func validClaims() tokenClaims {
	return tokenClaims{
		TenantID: "tenant-1",
		Role:     domain.RoleMember,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "https://axontask.test",
			Subject:   "user-1",
			Audience:  jwt.ClaimStrings{"axontask-api"},
			ExpiresAt: jwt.NewNumericDate(testNow.Add(15 * time.Minute)),
			NotBefore: jwt.NewNumericDate(testNow),
			IssuedAt:  jwt.NewNumericDate(testNow),
			ID:        "jti-1",
		},
	}
}

// sign builds a token for real with any method, key and kid ("" = no kid).
func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	b := setupJWT(t)
	b.now = testNow.Add(500 * time.Millisecond)
	tok, exp, err := b.issuer.Issue("user-1", "tenant-1", domain.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if want := testNow.Add(15 * time.Minute); !exp.Equal(want) {
		t.Fatalf("expiresAt = %v, want %v", exp, want)
	}
	c, err := b.issuer.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{UserID: "user-1", TenantID: "tenant-1", Role: domain.RoleAdmin, TokenID: c.TokenID,
		Issuer: "https://axontask.test", Audience: "axontask-api",
		IssuedAt: testNow, NotBefore: testNow, ExpiresAt: testNow.Add(15 * time.Minute)}
	if len(c.TokenID) != 22 {
		t.Fatalf("token id %q, want 22 characters", c.TokenID)
	}
	if c.IssuedAt.Equal(want.IssuedAt) && c.ExpiresAt.Equal(want.ExpiresAt) && c.NotBefore.Equal(want.NotBefore) {
		c.IssuedAt, c.NotBefore, c.ExpiresAt = want.IssuedAt, want.NotBefore, want.ExpiresAt
	}
	if c != want {
		t.Fatalf("claims = %+v\nwant %+v", c, want)
	}
	hdr, _, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(hdr)
	if !strings.Contains(string(raw), `"kid":"k2"`) || !strings.Contains(string(raw), `"alg":"HS256"`) {
		t.Fatalf("header %s lacks kid k2 or alg HS256", raw)
	}
	tok2, _, err := b.issuer.Issue("user-1", "tenant-1", domain.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := b.issuer.Verify(tok2)
	if err != nil || c2.TokenID == c.TokenID {
		t.Fatalf("second token: err %v, token id repeated: %v", err, c2.TokenID == c.TokenID)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	b := setupJWT(t)
	hs256 := jwt.SigningMethodHS256
	withClaims := func(f func(*tokenClaims)) tokenClaims { c := validClaims(); f(&c); return c }
	keyK2 := b.key(t, "k2")
	good := sign(t, hs256, keyK2, "k2", validClaims())

	tamper := func() string {
		parts := strings.Split(good, ".")
		c := validClaims()
		c.Role = domain.RoleOwner
		other := sign(t, hs256, []byte("attacker-secret-attacker-secret-attacker"), "k2", c)
		parts[1] = strings.Split(other, ".")[1]
		return strings.Join(parts, ".")
	}

	tests := []struct {
		name    string
		reason  string // a part of the error message
		token   string
		expired bool
	}{
		{"alg none", "other than HS256", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k2", validClaims()), false},
		{"HS384 with the right key", "other than HS256", sign(t, jwt.SigningMethodHS384, keyK2, "k2", validClaims()), false},
		{"HS512 with the right key", "other than HS256", sign(t, jwt.SigningMethodHS512, keyK2, "k2", validClaims()), false},
		{"wrong kid", "unknown key id", sign(t, hs256, keyK2, "k9", validClaims()), false},
		{"kid of another key", "invalid signature", sign(t, hs256, keyK2, "k1", validClaims()), false},
		{"no kid", "no key id", sign(t, hs256, keyK2, "", validClaims()), false},
		{"rotated-out kid", "unknown key id", sign(t, hs256, secretK0, "k0", validClaims()), false},
		{"wrong secret", "invalid signature", sign(t, hs256, []byte("wrong-secret-wrong-secret-wrong-secret!"), "k2", validClaims()), false},
		{"signed with the configured secret, not its derived key", "invalid signature", sign(t, hs256, secretK2, "k2", validClaims()), false},
		{"signed with the resume token key of the same secret", "invalid signature", sign(t, hs256, resumeKey(t, secretK2), "k2", validClaims()), false},
		{"wrong issuer", "another issuer", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.Issuer = "https://evil.test" })), false},
		{"no issuer", "required claim", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.Issuer = "" })), false},
		{"wrong audience", "another audience", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.Audience = jwt.ClaimStrings{"other"} })), false},
		{"no audience", "required claim", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.Audience = nil })), false},
		{"expired", "expired", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) {
			c.IssuedAt = jwt.NewNumericDate(testNow.Add(-time.Hour))
			c.NotBefore = c.IssuedAt
			c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Second))
		})), true},
		{"nbf in the future", "not valid yet", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(testNow.Add(time.Minute)) })), false},
		{"iat in the future", "not valid yet", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(testNow.Add(time.Minute)) })), false},
		{"no exp", "required claim", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.ExpiresAt = nil })), false},
		{"no nbf", "required claim", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.NotBefore = nil })), false},
		{"no iat", "issued-at", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.IssuedAt = nil })), false},
		{"no subject", "subject", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.Subject = "" })), false},
		{"no tenant", "tenant_id", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.TenantID = "" })), false},
		{"unknown role", "role", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.Role = "root" })), false},
		{"no jti", "jti", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.ID = "" })), false},
		{"tampered payload", "invalid signature", tamper(), false},
		{"stripped signature", "invalid signature", good[:strings.LastIndex(good, ".")+1], false},
		{"padded base64", "malformed", strings.Replace(good, ".", "=.", 1), false},
		{"too long", "longer than", sign(t, hs256, keyK2, "k2", withClaims(func(c *tokenClaims) { c.TenantID = strings.Repeat("t", MaxTokenLength) })), false},
		{"empty", "malformed", "", false},
		{"garbage", "malformed", "not.a.jwt", false},
		{"api key", "malformed", "axt_abcdefghijkl_" + strings.Repeat("a", 52), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.issuer.Verify(tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify error = %v, want ErrInvalidToken", err)
			}
			if got := errors.Is(err, ErrTokenExpired); got != tc.expired {
				t.Fatalf("errors.Is(err, ErrTokenExpired) = %v, want %v (err %v)", got, tc.expired, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.reason) {
				t.Fatalf("Verify error %q does not say %q", msg, tc.reason)
			}
			for _, part := range append(strings.Split(tc.token, "."), string(secretK1), string(secretK2)) {
				if len(part) >= 8 && strings.Contains(msg, part) {
					t.Fatalf("error %q leaks part of the token or a secret", msg)
				}
			}
		})
	}
}

func TestVerifyAcceptsRetiredKeyAndLeeway(t *testing.T) {
	t.Parallel()
	b := setupJWT(t)
	// k1 is no longer current but still listed: its tokens verify.
	tok := sign(t, jwt.SigningMethodHS256, b.key(t, "k1"), "k1", validClaims())
	if _, err := b.issuer.Verify(tok); err != nil {
		t.Fatalf("token of a retired but listed key: %v", err)
	}
	// Just before expiry passes; at expiry fails.
	b.now = testNow.Add(15*time.Minute - time.Second)
	if _, err := b.issuer.Verify(tok); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	b.now = testNow.Add(15 * time.Minute)
	if _, err := b.issuer.Verify(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("at expiry: %v, want ErrTokenExpired", err)
	}
	// With leeway, a little clock skew is tolerated.
	lenient, err := NewIssuer(IssuerConfig{Keys: b.ring, Issuer: "https://axontask.test", Audience: "axontask-api",
		Expiry: time.Minute, Leeway: 30 * time.Second, NowFunc: func() time.Time { return testNow.Add(15*time.Minute + 20*time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lenient.Verify(tok); err != nil {
		t.Fatalf("20s past expiry with 30s leeway: %v", err)
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	t.Parallel()
	b := setupJWT(t)
	tests := []struct {
		name, user, tenant string
		role               domain.Role
	}{
		{"no user", "", "t", domain.RoleMember},
		{"no tenant", "u", "", domain.RoleMember},
		{"long user", strings.Repeat("u", 129), "t", domain.RoleMember},
		{"long tenant", "u", strings.Repeat("t", 129), domain.RoleMember},
		{"no role", "u", "t", ""},
		{"unknown role", "u", "t", "root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := b.issuer.Issue(tc.user, tc.tenant, tc.role); err == nil {
				t.Fatal("Issue accepted bad input")
			}
		})
	}
}

func TestNewIssuerValidates(t *testing.T) {
	t.Parallel()
	ring, err := NewKeyring("k1", map[string][]byte{"k1": secretK1})
	if err != nil {
		t.Fatal(err)
	}
	ok := IssuerConfig{Keys: ring, Issuer: "i", Audience: "a", Expiry: time.Minute}
	tests := []struct {
		name string
		edit func(*IssuerConfig)
	}{
		{"no keys", func(c *IssuerConfig) { c.Keys = nil }},
		{"no issuer", func(c *IssuerConfig) { c.Issuer = "" }},
		{"no audience", func(c *IssuerConfig) { c.Audience = "" }},
		{"zero expiry", func(c *IssuerConfig) { c.Expiry = 0 }},
		{"huge expiry", func(c *IssuerConfig) { c.Expiry = MaxExpiry + time.Second }},
		{"negative leeway", func(c *IssuerConfig) { c.Leeway = -time.Second }},
		{"huge leeway", func(c *IssuerConfig) { c.Leeway = time.Hour }},
	}
	if _, err := NewIssuer(ok); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			if _, err := NewIssuer(c); err == nil {
				t.Fatal("NewIssuer accepted a bad config")
			}
		})
	}
}

func TestIssuerConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setupJWT(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				tok, _, err := b.issuer.Issue("u", "t", domain.RoleViewer)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := b.issuer.Verify(tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzVerify: access tokens are outside input. The fuzzer writes a token's
// header and claims, and signs them with one of the keys of the ring or a
// key that must not verify (a retired key, the raw secret instead of the
// derived key, the resume token key). Verify never panics, never accepts a
// token whose header does not name HS256 and the very key that signed it,
// and the claims it accepts are those it promises to check.
func FuzzVerify(f *testing.F) {
	b := setupJWT(f)
	keys := []struct {
		kid string // "" when the key must never verify
		key []byte
	}{
		{"k1", b.key(f, "k1")},
		{"k2", b.key(f, "k2")},
		{"", mustDeriveKey(f, secretK0)},
		{"", secretK2},
		{"", resumeKey(f, secretK2)},
	}
	claims, err := json.Marshal(validClaims())
	if err != nil {
		f.Fatal(err)
	}
	// The edge cases are in testdata/fuzz/FuzzVerify.
	f.Add([]byte(`{"alg":"HS256","kid":"k2","typ":"JWT"}`), claims, uint8(1))
	f.Add([]byte(`{"alg":"HS256","kid":"k1"}`), claims, uint8(0))
	f.Fuzz(func(t *testing.T, header, payload []byte, which uint8) {
		k := keys[int(which)%len(keys)]
		input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
		mac := hmac.New(sha256.New, k.key)
		mac.Write([]byte(input))
		c, err := b.issuer.Verify(input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("header %s, claims %s: %v does not wrap ErrInvalidToken", header, payload, err)
			}
			return
		}
		var h struct{ Alg, Kid string }
		if k.kid == "" || json.Unmarshal(header, &h) != nil || h.Alg != "HS256" || h.Kid != k.kid {
			t.Fatalf("accepted header %s, claims %s signed with key %d", header, payload, which)
		}
		_, roleErr := domain.ParseRole(string(c.Role))
		switch {
		case c.Issuer != b.issuer.cfg.Issuer, c.Audience != b.issuer.cfg.Audience:
			t.Fatalf("claims %s: accepted issuer %q, audience %q", payload, c.Issuer, c.Audience)
		case c.UserID == "", c.TenantID == "", c.TokenID == "", roleErr != nil:
			t.Fatalf("claims %s: accepted %+v", payload, c)
		case !c.ExpiresAt.After(b.now), c.NotBefore.After(b.now), c.IssuedAt.After(b.now):
			t.Fatalf("claims %s: accepted times %+v at %s", payload, c, b.now)
		}
	})
}

// mustDeriveKey returns the access token key derived from secret.
func mustDeriveKey(t testing.TB, secret []byte) []byte {
	t.Helper()
	key, err := deriveKey(secret, accessTokenLabel)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// A delegated token works only at its own audience: Verify (the API) and
// VerifyDelegated for another resource refuse it, and the API's tokens are
// no delegated tokens.
func TestDelegatedAudience(t *testing.T) {
	t.Parallel()
	ring, err := NewKeyring("k1", map[string][]byte{"k1": []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := NewIssuer(IssuerConfig{Keys: ring, Issuer: "axontask", Audience: "axontask-api", Expiry: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const mcp = "http://127.0.0.1:8080/mcp"
	tok, _, err := iss.IssueDelegated("u1", "t1", domain.RoleMember, Delegation{Audience: mcp, ClientID: "c1", Scope: "tasks:read", GrantID: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := iss.VerifyDelegated(tok, mcp)
	if err != nil || c.ClientID != "c1" || c.Scope != "tasks:read" || c.GrantID != "g1" || c.Audience != mcp || c.UserID != "u1" {
		t.Fatalf("VerifyDelegated = %+v, %v", c, err)
	}
	if _, _, err := iss.IssueDelegated("u1", "t1", domain.RoleMember, Delegation{Audience: mcp, ClientID: "c1"}); err == nil {
		t.Fatal("a delegated token was issued under no authorization (grant id)")
	}
	if _, err := iss.VerifyDelegated(tok, "https://other.example/mcp"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyDelegated for another resource = %v, want ErrInvalidToken", err)
	}
	if _, err := iss.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify of a delegated token = %v, want ErrInvalidToken", err)
	}
	api, _, err := iss.Issue("u1", "t1", domain.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.VerifyDelegated(api, mcp); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyDelegated of an API token = %v, want ErrInvalidToken", err)
	}
	if _, _, err := iss.IssueDelegated("u1", "t1", domain.RoleMember, Delegation{Audience: "axontask-api", ClientID: "c1", GrantID: "g1"}); err == nil {
		t.Fatal("IssueDelegated for the API's audience succeeded")
	}
}

// An empty audience takes a delegated token of any resource, never the
// API's own tokens.
func TestDelegatedAnyAudience(t *testing.T) {
	t.Parallel()
	ring, err := NewKeyring("k1", map[string][]byte{"k1": []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := NewIssuer(IssuerConfig{Keys: ring, Issuer: "axontask", Audience: "axontask-api", Expiry: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := iss.IssueDelegated("u1", "t1", domain.RoleMember, Delegation{Audience: "https://a.example/mcp", ClientID: "c1", GrantID: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := iss.VerifyDelegated(tok, ""); err != nil || c.Audience != "https://a.example/mcp" {
		t.Fatalf("VerifyDelegated(any) = %+v, %v", c, err)
	}
	api, _, _ := iss.Issue("u1", "t1", domain.RoleMember)
	if _, err := iss.VerifyDelegated(api, ""); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyDelegated(any) of an API token = %v, want ErrInvalidToken", err)
	}
}
