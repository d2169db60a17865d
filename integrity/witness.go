package integrity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/mod/sumdb/note"
)

// Key algorithms of signed notes (C2SP signed-note).
const (
	algEd25519       = 0x01 // a plain Ed25519 note signature
	algCosignatureV1 = 0x04 // C2SP tlog-cosignature: a timestamped Ed25519 cosignature
)

// NewWitnessVerifier parses the verifier key of a witness, in the C2SP
// signed-note text form "<name>+<8 hex digits of key hash>+<base64 key>":
// a tlog-cosignature key (algorithm 0x04, "cosignature/v1", what witnesses
// such as litewitness and the Armored Witness sign with) or a plain Ed25519
// note key (0x01). The verifier checks one witness's signature line on a
// checkpoint note.
func NewWitnessVerifier(vkey string) (note.Verifier, error) {
	name, rest, ok := strings.Cut(vkey, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	if !ok || !ok2 || name == "" || strings.ContainsFunc(name, unicode.IsSpace) || len(hash16) != 8 {
		return nil, errors.New("a witness key has the form <name>+<8 hex digits>+<base64 key>")
	}
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("witness key %s: the key is not base64", name)
	}
	switch key[0] {
	case algEd25519:
		return note.NewVerifier(vkey)
	case algCosignatureV1:
	default:
		return nil, fmt.Errorf("witness key %s: algorithm %#x is neither Ed25519 (0x01) nor cosignature/v1 (0x04)", name, key[0])
	}
	if len(key) != 1+ed25519.PublicKeySize {
		return nil, fmt.Errorf("witness key %s: a cosignature/v1 key has %d bytes, not %d", name, 1+ed25519.PublicKeySize, len(key))
	}
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil || uint32(hash) != keyHash(name, key) {
		return nil, fmt.Errorf("witness key %s: the key hash %s does not match the key", name, hash16)
	}
	return &cosignatureVerifier{name: name, hash: uint32(hash), key: ed25519.PublicKey(key[1:])}, nil
}

// keyHash is a signed note's key hash: the first four bytes, big-endian,
// of SHA-256(name || "\n" || key).
func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// cosignatureVerifier verifies C2SP tlog-cosignature (cosignature/v1)
// signatures: 8 bytes of big-endian Unix time, then the Ed25519 signature
// of "cosignature/v1\ntime <time>\n" followed by the checkpoint's text.
type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }

func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	signed := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, msg)
	return ed25519.Verify(v.key, signed, sig[8:])
}

// CheckCosignatures counts the witnesses among witnesses whose
// cosignatures on the checkpoint note msg verify, and fails with a
// *LogError of kind WitnessQuorum when they are fewer than quorum, or of
// kind CheckpointSignature when a line that claims one of their keys does
// not verify. Signature lines of other keys (the log's own among them) are
// ignored: check the log's signature with OpenCheckpoint.
func CheckCosignatures(msg []byte, witnesses []note.Verifier, quorum int) (int, error) {
	n, err := note.Open(msg, note.VerifierList(witnesses...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		n = &note.Note{}
	case errors.As(err, &invalid):
		return 0, &LogError{Kind: CheckpointSignature, Detail: fmt.Sprintf("a witness cosignature on the checkpoint does not verify: %v", err)}
	case err != nil:
		return 0, &LogError{Kind: BadCheckpoint, Detail: err.Error()}
	}
	if len(n.Sigs) < quorum {
		return len(n.Sigs), &LogError{Kind: WitnessQuorum, Detail: fmt.Sprintf("the checkpoint carries %d valid cosignatures of the %d pinned witnesses; %d are required", len(n.Sigs), len(witnesses), quorum)}
	}
	return len(n.Sigs), nil
}
