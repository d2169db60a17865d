package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeyLen is the length of an operator key and of a data key, in bytes
// (AES-256).
const KeyLen = 32

// sealVersion is the first byte of every seal this package writes; a later
// format gets another.
const sealVersion = 1

// Key is an operator key: it seals the data keys of tenant secrets.
type Key struct {
	id  string
	key []byte
}

// ParseKey parses an operator key: 32 random bytes written as standard or
// URL-safe base64 (`openssl rand -base64 32`) or as 64 hex digits. The
// error never contains the text it was given.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	switch {
	case len(s) == 2*KeyLen:
		b, err = hex.DecodeString(s)
	case strings.ContainsAny(s, "-_"):
		b, err = base64.URLEncoding.DecodeString(s)
	default:
		b, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil || len(b) != KeyLen {
		return Key{}, fmt.Errorf("a secrets key is %d random bytes in base64 or hex (make one with `openssl rand -base64 32`); the value given is not", KeyLen)
	}
	return NewKey(b), nil
}

// NewKey returns the operator key of the KeyLen bytes b (copied).
func NewKey(b []byte) Key {
	sum := sha256.Sum256(append([]byte("axontask-secrets-key-id\x00"), b...))
	return Key{id: hex.EncodeToString(sum[:8]), key: append([]byte(nil), b...)}
}

// GenerateKey returns a new random operator key.
func GenerateKey() (Key, []byte, error) {
	b := make([]byte, KeyLen)
	if _, err := rand.Read(b); err != nil {
		return Key{}, nil, fmt.Errorf("generate a secrets key: %w", err)
	}
	return NewKey(b), b, nil
}

// ID returns the key's id: the first 8 bytes of a SHA-256 of the key, in
// hex. It names the key in the store and in logs; it does not reveal it.
func (k Key) ID() string { return k.id }

// Keyring is the operator keys a process knows: the current one, which
// seals, and previous ones, which only open what they sealed until
// [Vault.RotateKey] has re-sealed it. It is safe for concurrent use.
type Keyring struct {
	current  Key
	previous map[string]Key
}

// NewKeyring returns a keyring that seals with current and opens with it
// and with previous.
func NewKeyring(current Key, previous ...Key) *Keyring {
	k := &Keyring{current: current, previous: map[string]Key{}}
	for _, p := range previous {
		if p.id != current.id {
			k.previous[p.id] = p
		}
	}
	return k
}

// CurrentID returns the id of the key that seals.
func (k *Keyring) CurrentID() string { return k.current.id }

// ErrUnknownKey means a data key was sealed by an operator key this keyring does
// not have.
var ErrUnknownKey = errors.New("sealed by an operator key this server does not have: set SECRETS_KEY_PREVIOUS to the key it was sealed with, then run `axontask secret rotate-key`")

// errOpen is the error of any seal that does not open: one message whether
// the key is wrong or the bytes or their tenant and name were changed.
var errOpen = errors.New("does not open: it was changed, or copied from another tenant or name, or sealed by another key with the same id")

func (k *Keyring) key(id string) (Key, error) {
	if id == k.current.id {
		return k.current, nil
	}
	if p, ok := k.previous[id]; ok {
		return p, nil
	}
	return Key{}, fmt.Errorf("key %s: %w", id, ErrUnknownKey)
}

// valueAAD and keyAAD bind a seal to its tenant and name (and a data key's
// seal to the operator key's id). Tenant ids and names hold no NUL byte.
func valueAAD(tenantID, name string) []byte {
	return []byte("axontask-secret-value/v1\x00" + tenantID + "\x00" + name)
}

func keyAAD(keyID, tenantID, name string) []byte {
	return []byte("axontask-secret-key/v1\x00" + keyID + "\x00" + tenantID + "\x00" + name)
}

// seal seals plain with key and aad: version, nonce, then the GCM
// ciphertext and tag.
func seal(key, plain, aad []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, aad), nil
}

// open opens what seal sealed with the same key and aad.
func open(key, sealed, aad []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errOpen
	}
	n := 1 + aead.NonceSize()
	plain, err := aead.Open(nil, sealed[1:n], sealed[n:], aad)
	if err != nil {
		return nil, errOpen
	}
	return plain, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}
