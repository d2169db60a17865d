package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// CookieName is the session cookie's name.
const CookieName = "axontask_session"

// CSRFField is the name of the CSRF token's form field; CSRFHeader the
// header the pages' scripts send it in.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// maxCookieBytes bounds the session cookie the dashboard reads.
const maxCookieBytes = 3 << 10

// session is what the session cookie holds, sealed: the CSRF token of the
// browser's session and, once signed in, the user's tokens.
type session struct {
	CSRF    string `json:"c"`
	Access  string `json:"a,omitempty"`
	Refresh string `json:"r,omitempty"`
	// Expires is when Access stops working (Unix seconds).
	Expires int64  `json:"e,omitempty"`
	Email   string `json:"m,omitempty"`
	Tenant  string `json:"t,omitempty"`
	// Role is the user's role in Tenant as of the last sign-in or
	// refresh: it chooses the navigation's entries, never what the API
	// allows.
	Role domain.Role `json:"o,omitempty"`
}

// signedIn reports whether s holds a user's tokens.
func (s *session) signedIn() bool { return s.Access != "" && s.Refresh != "" }

// signIn stores tok in s as received at now, with a fresh CSRF token (a
// sign-in never keeps the token an anonymous page was given).
func (s *session) signIn(tok api.Tokens, email string, now time.Time) {
	*s = session{CSRF: newCSRF(), Access: tok.AccessToken, Refresh: tok.RefreshToken,
		Expires: now.Add(tok.Lifetime()).Unix(), Email: email, Tenant: tok.TenantID, Role: tok.Role}
}

// newCSRF returns a fresh random CSRF token.
func newCSRF() string { return rand.Text() }

// checkCSRF reports whether the request carries s's CSRF token in its form
// field or header.
func (s *session) checkCSRF(r *http.Request) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return s.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// sealer seals sessions into cookie values and opens them: AES-256-GCM,
// the random nonce first, base64url without padding.
type sealer struct {
	aead   cipher.AEAD
	secure bool
}

// newSealer returns a sealer with the 32-byte key.
func newSealer(key []byte, secure bool) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("dashboard: the session key is %d bytes; it must be 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return &sealer{aead: aead, secure: secure}, nil
}

// open returns the session of r's cookie and true, or a fresh anonymous
// one and false when it has none or its cookie does not open (a key
// change, a forged cookie).
func (c *sealer) open(r *http.Request) (*session, bool) {
	if ck, err := r.Cookie(CookieName); err == nil && len(ck.Value) <= maxCookieBytes {
		if s, err := c.unseal(ck.Value); err == nil {
			return s, true
		}
	}
	return &session{CSRF: newCSRF()}, false
}

// unseal opens a cookie value.
func (c *sealer) unseal(v string) (*session, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < c.aead.NonceSize() {
		return nil, errors.New("malformed session cookie")
	}
	plain, err := c.aead.Open(nil, b[:c.aead.NonceSize()], b[c.aead.NonceSize():], []byte(CookieName))
	if err != nil {
		return nil, errors.New("session cookie does not open")
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil || s.CSRF == "" {
		return nil, errors.New("malformed session")
	}
	return &s, nil
}

// save sets the cookie holding s on w: HttpOnly, SameSite=Lax, Secure in
// serve, for the browser's session (no expiry).
func (c *sealer) save(w http.ResponseWriter, s *session) {
	plain, _ := json.Marshal(s) // strings and an int only
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := c.aead.Seal(nonce, nonce, plain, []byte(CookieName))
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/",
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}
