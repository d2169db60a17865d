package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Refresh token format: "axr_" + the unpadded base64url encoding of 32
// random bytes.
const (
	// RefreshTokenPrefix starts every refresh token.
	RefreshTokenPrefix = "axr_"
	// refreshSecretBytes is the token's randomness: 256 bits.
	refreshSecretBytes = 32
	// RefreshTokenLength is the length of a whole refresh token.
	RefreshTokenLength = len(RefreshTokenPrefix) + 43
)

const b64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64url is canonical unpadded base64url.
var b64url = base64.RawURLEncoding.Strict()

// NewRefreshToken makes an opaque refresh token. token goes to the client and
// is never stored; hash ([RefreshTokenHash]) is what the store keeps and
// looks tokens up by.
//
// Intended use, enforced later by the session aggregate, not here: each
// token belongs to a family (one login); refreshing marks the presented
// token used and issues the next token of the same family. Presenting a
// token that was already used means it leaked, so the whole family is
// revoked and the user must sign in again. Tokens also expire.
func NewRefreshToken() (token string, hash []byte, err error) {
	var raw [refreshSecretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("read random refresh token: %w", err)
	}
	token = RefreshTokenPrefix + b64url.EncodeToString(raw[:])
	return token, RefreshTokenHash(token), nil
}

// ParseRefreshToken checks that s is exactly a refresh token made by
// [NewRefreshToken] and returns its [RefreshTokenHash], the store's lookup
// key. Anything else fails with [ErrMalformedRefreshToken]; the error never
// contains s. Looking the hash up needs no constant-time compare: it is the
// hash of 256 random bits, and learning it does not reveal the token.
func ParseRefreshToken(s string) (hash []byte, err error) {
	if len(s) != RefreshTokenLength {
		return nil, fmt.Errorf("%w: want %d characters starting with %q", ErrMalformedRefreshToken, RefreshTokenLength, RefreshTokenPrefix)
	}
	body, ok := strings.CutPrefix(s, RefreshTokenPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: must start with %q", ErrMalformedRefreshToken, RefreshTokenPrefix)
	}
	if !onlyChars(body, b64urlAlphabet) {
		return nil, fmt.Errorf("%w: the body must be unpadded base64url of %d bytes", ErrMalformedRefreshToken, refreshSecretBytes)
	}
	raw, err := b64url.DecodeString(body)
	if err != nil || len(raw) != refreshSecretBytes {
		return nil, fmt.Errorf("%w: the body must be unpadded base64url of %d bytes", ErrMalformedRefreshToken, refreshSecretBytes)
	}
	return RefreshTokenHash(s), nil
}

// RefreshTokenHash returns the SHA-256 of the whole token, the value to
// store. A fast hash is right: the token carries 256 random bits.
func RefreshTokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
