package auth

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// The labels (HKDF info) of the keys derived from a configured secret. Each
// token type is signed with its own key, so that one configured secret
// (JWT_SECRET) serves both and yet a token of one type can never verify as
// the other. Changing a label voids every token of its type.
const (
	accessTokenLabel = "axontask access token v1"
	resumeTokenLabel = "axontask resume token v1"
	sessionLabel     = "axontask dashboard session v1"
)

// deriveKey returns the 32-byte key for label derived from secret with
// HKDF-SHA256 (RFC 5869), without salt: the secret is already uniformly
// random, at least [MinSecretLength] bytes, which the callers check.
func deriveKey(secret []byte, label string) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, label, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive the %s key: %w", label, err)
	}
	return key, nil
}

// ResumeTokenKey returns the key that signs resume tokens, derived from
// secret (JWT_SECRET, or dev's generated key) with HKDF-SHA256 under its own
// label. The access tokens' keys are derived from their secrets under
// another label (see [Keyring]), so a resume token and an access token never
// share a key even when they come from the same secret. secret must pass
// [CheckSecret]; the error never contains it.
func ResumeTokenKey(secret []byte) ([]byte, error) {
	if err := CheckSecret(secret); err != nil {
		return nil, fmt.Errorf("resume token secret %w", err)
	}
	return deriveKey(secret, resumeTokenLabel)
}

// DashboardSessionKey returns the 32-byte key that seals the dashboard's
// session cookies, derived from secret (JWT_SECRET, or dev's generated key)
// with HKDF-SHA256 under its own label, so that it shares no key with the
// tokens. secret must pass [CheckSecret]; the error never contains it.
func DashboardSessionKey(secret []byte) ([]byte, error) {
	if err := CheckSecret(secret); err != nil {
		return nil, fmt.Errorf("dashboard session secret %w", err)
	}
	return deriveKey(secret, sessionLabel)
}
