package auth

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Keyring limits.
const (
	// MinSecretLength is the shortest secret accepted, in bytes: 256 bits,
	// the size of the HMAC-SHA-256 output.
	MinSecretLength = 32
	// maxSecretLength bounds one secret, in bytes.
	maxSecretLength = 1024
	// maxKeys bounds how many keys a keyring holds.
	maxKeys = 16
	// maxKIDLength bounds a key id, in bytes.
	maxKIDLength = 64
	// maxKeyringSpec bounds the configuration string given to ParseKeyring.
	maxKeyringSpec = 32 * 1024
)

// Keyring holds the HS256 keys for access tokens, by key id ("kid"). One
// of them, the current key, signs new tokens; every key in the ring verifies.
// A Keyring is immutable and safe for concurrent use.
//
// Each key is derived from its configured secret with HKDF-SHA256 under the
// label "axontask access token v1", never the secret itself: resume tokens
// are signed with a key derived under another label ([ResumeTokenKey]), so
// one secret may serve both without a token of one kind ever verifying as
// the other.
//
// To rotate without signing anybody out: (1) deploy with the new key listed
// but not current, so every instance can verify it; (2) make it current; (3)
// once the longest token expiry has passed, remove the old key. Tokens whose
// kid is no longer listed are rejected.
type Keyring struct {
	current string
	keys    map[string][]byte
}

// NewKeyring returns a keyring holding the keys derived from secrets, by
// kid, signing with currentKID, which must be one of them. Each kid is 1 to
// 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'; each secret passes
// [CheckSecret]; there are at most 16 keys. The secrets themselves are not
// kept. Errors name the kid at fault, never a secret.
func NewKeyring(currentKID string, secrets map[string][]byte) (*Keyring, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("keyring has no keys; give at least one kid and secret")
	}
	if len(secrets) > maxKeys {
		return nil, fmt.Errorf("keyring has %d keys, more than %d; remove retired keys", len(secrets), maxKeys)
	}
	k := &Keyring{current: currentKID, keys: make(map[string][]byte, len(secrets))}
	for _, kid := range slices.Sorted(maps.Keys(secrets)) {
		if err := checkKID(kid); err != nil {
			return nil, err
		}
		if err := CheckSecret(secrets[kid]); err != nil {
			return nil, fmt.Errorf("secret of key %q %w", kid, err)
		}
		key, err := deriveKey(secrets[kid], accessTokenLabel)
		if err != nil {
			return nil, err
		}
		k.keys[kid] = key
	}
	if _, ok := k.keys[currentKID]; !ok {
		return nil, fmt.Errorf("current key id is not in the keyring; list a secret for the signing key")
	}
	return k, nil
}

// ParseKeyring parses a configuration string of comma-separated
// "kid:secret" entries, such as "k2:<secret>,k1:<old secret>". The first
// entry is the current (signing) key; the others only verify. Space around
// entries is trimmed; secrets cannot contain commas. The rules of
// [NewKeyring] apply, and duplicate kids are refused. Errors name the entry's
// position, never a secret or a key id (a mistyped entry
// may put part of a secret where the id belongs).
func ParseKeyring(spec string) (*Keyring, error) {
	if len(spec) > maxKeyringSpec {
		return nil, fmt.Errorf("keyring configuration is longer than %d bytes; remove retired keys", maxKeyringSpec)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("keyring configuration is empty; set it to \"kid:secret\" with a secret of at least %d bytes", MinSecretLength)
	}
	entries := strings.Split(spec, ",")
	if len(entries) > maxKeys {
		return nil, fmt.Errorf("keyring configuration has %d entries, more than %d; remove retired keys", len(entries), maxKeys)
	}
	secrets := make(map[string][]byte, len(entries))
	current := ""
	for i, e := range entries {
		kid, secret, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			return nil, fmt.Errorf("keyring entry %d has no \"kid:\" before its secret; write entries as kid:secret", i+1)
		}
		if err := checkKID(kid); err != nil {
			return nil, fmt.Errorf("keyring entry %d: %w", i+1, err)
		}
		if _, dup := secrets[kid]; dup {
			return nil, fmt.Errorf("keyring entry %d repeats the key id of an earlier entry; give each key its own id", i+1)
		}
		if err := CheckSecret([]byte(secret)); err != nil {
			return nil, fmt.Errorf("keyring entry %d: its secret %w", i+1, err)
		}
		if i == 0 {
			current = kid
		}
		secrets[kid] = []byte(secret)
	}
	return NewKeyring(current, secrets)
}

// CurrentKID returns the id of the key that signs new tokens.
func (k *Keyring) CurrentKID() string { return k.current }

// KIDs returns the ids of all keys, sorted. Safe to log.
func (k *Keyring) KIDs() []string { return slices.Sorted(maps.Keys(k.keys)) }

// key returns the signing key of kid.
func (k *Keyring) key(kid string) ([]byte, bool) {
	key, ok := k.keys[kid]
	return key, ok
}

const kidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

func checkKID(kid string) error {
	if kid == "" || len(kid) > maxKIDLength {
		return fmt.Errorf("key id must be 1 to %d characters", maxKIDLength)
	}
	if !onlyChars(kid, kidAlphabet) {
		// The id is not echoed: a mistyped entry may put part of a
		// secret where the id belongs.
		return fmt.Errorf("key id may only hold A-Z, a-z, 0-9, '.', '_' and '-'")
	}
	return nil
}
