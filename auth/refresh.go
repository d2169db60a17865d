package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Refresh token format: "axr_" + the session's id as 32 lower-case hex
// digits + "." + the unpadded base64url encoding of 32 random bytes:
//
//	axr_0190d2a46c1e7b3a9f00000000000000.<43 characters>
//
// The session id names the token's family (one login), so a token leads
// straight to its session without an index over token hashes.
const (
	// RefreshTokenPrefix starts every refresh token.
	RefreshTokenPrefix = "axr_"
	// refreshSecretBytes is the token's randomness: 256 bits.
	refreshSecretBytes = 32
	// refreshSessionChars is the length of the session id part.
	refreshSessionChars = 32
	// RefreshTokenLength is the length of a whole refresh token.
	RefreshTokenLength = len(RefreshTokenPrefix) + refreshSessionChars + 1 + 43
)

const b64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64url is canonical unpadded base64url.
var b64url = base64.RawURLEncoding.Strict()

// NewRefreshToken makes a refresh token of session. token goes to the client
// and is never stored; hash ([RefreshTokenHash]) is what the store keeps.
//
// The session aggregate (package domain) enforces how tokens are used: each
// refresh marks the presented token used and issues the session's next
// token. Presenting a token that was already used means it leaked, so the
// whole session (the token family) is revoked and the user must sign in
// again. Sessions also expire.
func NewRefreshToken(session uuid.UUID) (token string, hash []byte, err error) {
	var raw [refreshSecretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("read random refresh token: %w", err)
	}
	token = RefreshTokenPrefix + hex.EncodeToString(session[:]) + "." + b64url.EncodeToString(raw[:])
	return token, RefreshTokenHash(token), nil
}

// ParseRefreshToken checks that s is exactly a refresh token made by
// [NewRefreshToken] and returns its session and its [RefreshTokenHash].
// Anything else fails with [ErrMalformedRefreshToken]; the error never
// contains s. The hash must be compared in constant time with the one the
// session stored.
func ParseRefreshToken(s string) (session uuid.UUID, hash []byte, err error) {
	malformed := fmt.Errorf("%w: want %d characters: %q, 32 hex digits, \".\" and 43 base64url characters",
		ErrMalformedRefreshToken, RefreshTokenLength, RefreshTokenPrefix)
	if len(s) != RefreshTokenLength {
		return uuid.Nil, nil, malformed
	}
	body, ok := strings.CutPrefix(s, RefreshTokenPrefix)
	if !ok || body[refreshSessionChars] != '.' {
		return uuid.Nil, nil, malformed
	}
	sessionHex, secret := body[:refreshSessionChars], body[refreshSessionChars+1:]
	if !onlyChars(sessionHex, "0123456789abcdef") || !onlyChars(secret, b64urlAlphabet) {
		return uuid.Nil, nil, malformed
	}
	if _, err := hex.Decode(session[:], []byte(sessionHex)); err != nil {
		return uuid.Nil, nil, malformed
	}
	raw, err := b64url.DecodeString(secret)
	if err != nil || len(raw) != refreshSecretBytes {
		return uuid.Nil, nil, malformed
	}
	return session, RefreshTokenHash(s), nil
}

// RefreshTokenHash returns the SHA-256 of the whole token, the value to
// store. A fast hash is right: the token carries 256 random bits.
func RefreshTokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
