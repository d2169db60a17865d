package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/integrity"
)

// TestReceiptVerifiesOffline: against a real dev process, an ended task's
// receipt (task receipt -newer), its export (export -stream -with-proofs)
// and the keys the server publishes verify offline with axontask verify;
// a truncated export and a receipt checked against another key fail,
// naming what failed.
func TestReceiptVerifiesOffline(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	c := newClientCLI(t, dev.base, dev.key)
	id := strings.TrimSpace(c.mustRun("", "task", "start", "-adapter", "mock", "-args", `{"steps":3,"interval_ms":5}`).stdout)
	c.waitState(id, "succeeded")
	dir := t.TempDir()
	receipt, newer, export, proofs := filepath.Join(dir, "receipt.json"), filepath.Join(dir, "newer.json"), filepath.Join(dir, "export.jsonl"), filepath.Join(dir, "proofs.json")
	res := c.mustRun("", "task", "receipt", id, "-newer", newer)
	write(t, receipt, res.stdout)

	resp, err := http.Get(dev.base + "/.well-known/axontask-log-keys") //nolint:noctx // a test's one request
	if err != nil {
		t.Fatal(err)
	}
	var keys wire.LogKeys
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()

	out, errOut, code := runCLI(t, "", "export", "-sqlite", filepath.Join(dev.dataDir, "events.db"), "-stream", id, "-with-proofs", proofs)
	if code != exitOK {
		t.Fatalf("export: %d %s", code, errOut)
	}
	write(t, export, out)

	out, errOut, code = runCLI(t, "", "verify", "-receipt", receipt, "-receipt-key", keys.Receipts[0], "-log-key", keys.Log[0], "-newer", newer, export)
	if code != exitOK || !strings.Contains(out, "receipt verified: task "+id+" succeeded") {
		t.Fatalf("verify: %d\n%s%s", code, out, errOut)
	}
	t.Logf("axontask verify -receipt …:\n%s", out)
	out, errOut, code = runCLI(t, "", "verify", "-proofs", proofs, "-log-key", keys.Log[0], export)
	if code != exitOK || !strings.Contains(out, "proofs verified") {
		t.Fatalf("verify -proofs: %d\n%s%s", code, out, errOut)
	}
	verifyWitnessed(t, export, proofs, keys.Log[0])

	lines := strings.SplitAfter(strings.TrimSpace(readFile(t, export)), "\n")
	write(t, export, strings.Join(lines[:len(lines)-1], ""))
	_, errOut, code = runCLI(t, "", "verify", "-receipt", receipt, "-receipt-key", keys.Receipts[0], export)
	if code != exitFailed || !strings.Contains(errOut, "truncated") {
		t.Fatalf("verify a truncated export: %d %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "", "verify", "-receipt", receipt, "-receipt-key", keys.Log[0], export)
	if code != exitFailed || !strings.Contains(errOut, "receipt_signature") {
		t.Fatalf("verify with another key: %d %s", code, errOut)
	}
	_, errOut, code = runCLI(t, "", "verify", "-receipt", receipt, export)
	if code != exitUsage || !strings.Contains(errOut, "-receipt-key") {
		t.Fatalf("verify without a key: %d %s", code, errOut)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogKeygen: log-keygen prints the two variables serve reads, which
// configure a log of the origin asked for, and the public keys apart.
func TestLogKeygen(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCLI(t, "", "log-keygen", "-origin", "axontask.example.com/log")
	if code != exitOK {
		t.Fatalf("log-keygen: %d %s", code, errOut)
	}
	env := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	if len(env) != 2 || !strings.HasPrefix(env["LOG_SIGNING_KEY"], "PRIVATE+KEY+axontask.example.com/log+") || env["RECEIPT_SIGNING_KEY_ED25519"] == "" {
		t.Fatalf("log-keygen printed %q", out)
	}
	if !strings.Contains(errOut, "axontask.example.com/log/receipts+") || strings.Contains(errOut, env["LOG_SIGNING_KEY"]) {
		t.Fatalf("log-keygen's notes: %q", errOut)
	}
	if _, errOut, code := runCLI(t, "", "log-keygen"); code != exitUsage || !strings.Contains(errOut, "-origin") {
		t.Fatalf("log-keygen without -origin: %d %s", code, errOut)
	}
}

// verifyWitnessed: verify -witness fails a checkpoint without the pinned
// witness's cosignature, naming witness_quorum, and passes it once a
// witness (torchwood's cosigner, as litewitness signs) has cosigned it.
func verifyWitnessed(t *testing.T, export, proofs, logKey string) {
	t.Helper()
	w, err := torchwood.NewCosignatureSigner("witness.example/w", ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	wkey := w.Verifier().String()
	_, errOut, code := runCLI(t, "", "verify", "-proofs", proofs, "-log-key", logKey, "-witness", wkey, export)
	if code != exitFailed || !strings.Contains(errOut, "witness_quorum") {
		t.Fatalf("verify -witness of a checkpoint nobody cosigned: %d %s", code, errOut)
	}
	var p integrity.ExportProofs
	if err := json.Unmarshal([]byte(readFile(t, proofs)), &p); err != nil {
		t.Fatal(err)
	}
	text, _, _ := strings.Cut(p.Checkpoint, "\n\n")
	cosigned, err := note.Sign(&note.Note{Text: text + "\n"}, w)
	if err != nil {
		t.Fatal(err)
	}
	p.Checkpoint += string(cosigned[bytes.LastIndex(cosigned, []byte("\n\n"))+2:])
	b, _ := json.Marshal(p)
	write(t, proofs, string(b))
	out, errOut, code := runCLI(t, "", "verify", "-proofs", proofs, "-log-key", logKey, "-witness", wkey, export)
	if code != exitOK || !strings.Contains(out, "1 pinned witnesses cosigned that checkpoint") {
		t.Fatalf("verify -witness of a cosigned checkpoint: %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "", "verify", "-witness", wkey, export); code != exitUsage || !strings.Contains(errOut, "-newer and -proofs") {
		t.Fatalf("verify -witness alone: %d %s", code, errOut)
	}
}
