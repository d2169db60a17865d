package integrity

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Ed25519Signer returns the signer of the Ed25519 key whose 32-byte seed is
// seed, named name (a note key name: no spaces or "+"), and its public
// verifier key in golang.org/x/mod/sumdb/note's text form,
// "<name>+<8 hex digits of key hash>+<base64 of 0x01 || public key>", the
// form GET /v1/log/keys serves and an auditor pins.
func Ed25519Signer(name string, seed []byte) (note.Signer, string, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, "", fmt.Errorf("an Ed25519 key seed has %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, "", err
	}
	parts := strings.SplitN(vkey, "+", 3) // name+hash+key: the name holds no "+"
	if len(parts) != 3 || parts[0] != name {
		return nil, "", fmt.Errorf("key name %q is not a valid note key name (no spaces, no \"+\")", name)
	}
	skey := "PRIVATE+KEY+" + name + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...))
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("key named %q: %w", name, err)
	}
	return signer, vkey, nil
}

// ParseSignerKey parses a private key in golang.org/x/mod/sumdb/note's text
// form, "PRIVATE+KEY+<name>+<hash>+<base64 of 0x01 || 32-byte seed>" (as
// note.GenerateKey writes it), and returns its signer and public verifier
// key. Its errors never quote the key.
func ParseSignerKey(skey string) (note.Signer, string, error) {
	fields := strings.SplitN(skey, "+", 5)
	if len(fields) != 5 || fields[0] != "PRIVATE" || fields[1] != "KEY" {
		return nil, "", fmt.Errorf("not a note private key: want PRIVATE+KEY+<name>+<hash>+<key>")
	}
	key, err := base64.StdEncoding.DecodeString(fields[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return nil, "", fmt.Errorf("the note private key named %q is not an Ed25519 key", fields[2])
	}
	signer, vkey, err := Ed25519Signer(fields[2], key[1:])
	if err != nil {
		return nil, "", err
	}
	if want, err := note.NewSigner(skey); err != nil || want.KeyHash() != signer.KeyHash() {
		return nil, "", fmt.Errorf("the note private key named %q has a wrong key hash", fields[2])
	}
	return signer, vkey, nil
}
