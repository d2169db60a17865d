package integrity_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/integrity"
)

// cosigner returns a tlog-cosignature signer made by torchwood, an
// implementation independent of ours, and its verifier key.
func cosigner(t *testing.T, name string, seed byte) (note.Signer, string) {
	t.Helper()
	s, err := torchwood.NewCosignatureSigner(name, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Verifier().String()
}

// cosign appends signer's signature line to the signed note msg.
func cosign(t *testing.T, msg []byte, signer note.Signer) []byte {
	t.Helper()
	text, _, _ := bytes.Cut(msg, []byte("\n\n"))
	signed, err := note.Sign(&note.Note{Text: string(text) + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(signed, []byte("\n\n"))
	return append(bytes.Clone(msg), signed[i+2:]...)
}

func TestCheckCosignatures(t *testing.T) {
	logSigner, _, err := integrity.Ed25519Signer("example.com/log", bytes.Repeat([]byte{1}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := integrity.SignCheckpoint(integrity.Checkpoint{Origin: "example.com/log", Size: 7}, logSigner)
	if err != nil {
		t.Fatal(err)
	}
	w1, k1 := cosigner(t, "witness.example/one", 2)
	w2, k2 := cosigner(t, "witness.example/two", 3)
	_, k3 := cosigner(t, "witness.example/three", 4)
	// A plain Ed25519 note key is a witness key too.
	w4, k4, err := integrity.Ed25519Signer("witness.example/four", bytes.Repeat([]byte{5}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	var vs []note.Verifier
	for _, k := range []string{k1, k2, k3, k4} {
		v, err := integrity.NewWitnessVerifier(k)
		if err != nil {
			t.Fatalf("NewWitnessVerifier(%s): %v", k, err)
		}
		vs = append(vs, v)
	}
	cosigned := cosign(t, cosign(t, cosign(t, msg, w1), w2), w4)
	if n, err := integrity.CheckCosignatures(cosigned, vs, 3); err != nil || n != 3 {
		t.Fatalf("three cosignatures: %d, %v", n, err)
	}
	var le *integrity.LogError
	if n, err := integrity.CheckCosignatures(cosigned, vs, 4); !errors.As(err, &le) || le.Kind != integrity.WitnessQuorum || n != 3 {
		t.Fatalf("a quorum of four: %d, %v; want witness_quorum", n, err)
	}
	if n, err := integrity.CheckCosignatures(msg, vs, 1); !errors.As(err, &le) || le.Kind != integrity.WitnessQuorum || n != 0 {
		t.Fatalf("no cosignature: %d, %v; want witness_quorum", n, err)
	}
	// A cosignature over another checkpoint does not count: it fails.
	other, _ := integrity.SignCheckpoint(integrity.Checkpoint{Origin: "example.com/log", Size: 8}, logSigner)
	forged := cosign(t, other, w1)
	forged = append(bytes.Clone(msg), forged[bytes.LastIndex(forged, []byte("\n—"))+1:]...)
	if _, err := integrity.CheckCosignatures(forged, vs, 1); !errors.As(err, &le) || le.Kind != integrity.CheckpointSignature {
		t.Fatalf("a cosignature of another checkpoint: %v; want checkpoint_signature", err)
	}
	for _, bad := range []string{"", "name", "name+0000+AQ==", k1[:len(k1)-4] + "AAAA", "na me+12345678+BA=="} {
		if _, err := integrity.NewWitnessVerifier(bad); err == nil {
			t.Errorf("NewWitnessVerifier(%q) accepted it", bad)
		}
	}
}
