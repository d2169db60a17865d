package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
)

// API key format: "axt_" + prefix + "_" + secret, all in lower-case base32
// (a-z, 2-7) so a key survives double-click selection and case-folding
// copy-paste:
//
//	axt_abcdefgh2345_<52 chars>
const (
	// APIKeyPrefix starts every API key.
	APIKeyPrefix = "axt_"
	// APIKeyPrefixLength is the length of the lookup prefix that follows
	// "axt_" (the prefix NewAPIKey returns), in characters: 60 random bits.
	APIKeyPrefixLength = 12
	// apiKeySecretBytes is the secret's size: 256 random bits.
	apiKeySecretBytes = 32
	// APIKeySecretLength is the length of the encoded secret, in characters.
	APIKeySecretLength = 52
	// APIKeyLength is the length of a whole API key.
	APIKeyLength = len(APIKeyPrefix) + APIKeyPrefixLength + 1 + APIKeySecretLength
)

// b32Alphabet is lower-case RFC 4648 base32.
const b32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

// b32 is lower-case RFC 4648 base32 without padding.
var b32 = base32.NewEncoding(b32Alphabet).WithPadding(base32.NoPadding)

// NewAPIKey makes a new API key. plaintext is shown to the user once and
// never stored; prefix identifies the key (store it, unique, and show it in
// listings); hash is [APIKeyHash] of the secret (store it).
func NewAPIKey() (plaintext string, prefix string, hash []byte, err error) {
	var raw [APIKeyPrefixLength + apiKeySecretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", nil, fmt.Errorf("read random API key: %w", err)
	}
	p := make([]byte, APIKeyPrefixLength)
	for i := range p {
		// 256 is a multiple of 32, so the low five bits are uniform.
		p[i] = b32Alphabet[raw[i]&31]
	}
	prefix = string(p)
	secret := b32.EncodeToString(raw[APIKeyPrefixLength:])
	return APIKeyPrefix + prefix + "_" + secret, prefix, APIKeyHash(secret), nil
}

// ParseAPIKey splits an API key into its lookup prefix and its secret. It is
// strict: anything but exactly "axt_" + 12 base32 characters + "_" + the
// canonical 52-character base32 encoding of 32 bytes fails with
// [ErrMalformedAPIKey]. The error never contains the key.
func ParseAPIKey(s string) (prefix, secret string, err error) {
	if len(s) != APIKeyLength {
		return "", "", fmt.Errorf("%w: want %d characters starting with %q", ErrMalformedAPIKey, APIKeyLength, APIKeyPrefix)
	}
	rest, ok := strings.CutPrefix(s, APIKeyPrefix)
	if !ok {
		return "", "", fmt.Errorf("%w: must start with %q", ErrMalformedAPIKey, APIKeyPrefix)
	}
	prefix, secret = rest[:APIKeyPrefixLength], rest[APIKeyPrefixLength+1:]
	if rest[APIKeyPrefixLength] != '_' {
		return "", "", fmt.Errorf("%w: want \"_\" after the %d-character prefix", ErrMalformedAPIKey, APIKeyPrefixLength)
	}
	if !onlyChars(prefix, b32Alphabet) {
		return "", "", fmt.Errorf("%w: the prefix must be lower-case base32 (a-z, 2-7)", ErrMalformedAPIKey)
	}
	if !canonicalB32(secret, apiKeySecretBytes) {
		return "", "", fmt.Errorf("%w: the secret must be lower-case base32 (a-z, 2-7) of %d bytes", ErrMalformedAPIKey, apiKeySecretBytes)
	}
	return prefix, secret, nil
}

// canonicalB32 reports whether s is the one canonical encoding of n bytes.
func canonicalB32(s string, n int) bool {
	if !onlyChars(s, b32Alphabet) {
		return false
	}
	b, err := b32.DecodeString(s)
	return err == nil && len(b) == n && b32.EncodeToString(b) == s
}

// APIKeyHash returns the SHA-256 of an API key's secret, the value to store
// and to compare against. A fast, unsalted hash is right here, unlike for
// passwords: the secret is 256 random bits, so there is nothing to guess or
// precompute, and keys are checked on every request.
func APIKeyHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CheckAPIKey reports whether secret matches storedHash (from [APIKeyHash]),
// comparing in constant time. A stored hash of the wrong length never
// matches.
func CheckAPIKey(storedHash []byte, secret string) bool {
	if len(storedHash) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(storedHash, APIKeyHash(secret)) == 1
}

// BearerKind says what kind of credential a bearer token looks like.
type BearerKind int

// The kinds of bearer token.
const (
	// BearerUnknown is neither an API key nor a JWT; reject it.
	BearerUnknown BearerKind = iota
	// BearerAPIKey starts with "axt_": check it with [ParseAPIKey].
	BearerAPIKey
	// BearerJWT has the three dot-separated parts of a JWT: check it with
	// [Issuer.Verify].
	BearerJWT
)

// String returns "api_key", "jwt" or "unknown", for logs.
func (k BearerKind) String() string {
	switch k {
	case BearerAPIKey:
		return "api_key"
	case BearerJWT:
		return "jwt"
	case BearerUnknown:
	}
	return "unknown"
}

// ClassifyBearer tells from its shape alone whether a bearer token is an API
// key or a JWT, so the caller can pick the check. It validates nothing: the
// chosen check still must. Refresh tokens ("axr_") are [BearerUnknown], as
// they are never valid as bearer credentials.
func ClassifyBearer(token string) BearerKind {
	switch {
	case strings.HasPrefix(token, APIKeyPrefix):
		return BearerAPIKey
	case strings.Count(token, ".") == 2:
		return BearerJWT
	}
	return BearerUnknown
}

// onlyChars reports whether every byte of s is in alphabet. The standard
// decoders skip CR and LF, so strict parsing checks the characters first.
func onlyChars(s, alphabet string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}
