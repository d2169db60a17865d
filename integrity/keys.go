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
