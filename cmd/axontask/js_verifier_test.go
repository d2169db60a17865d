package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testnode"
)

// jsVerifierDir holds the second verifier, written from docs/integrity.md.
var jsVerifierDir = filepath.Join("..", "..", "docs", "examples", "verify-js")

// TestJavaScriptVerifierAgrees: the JavaScript verifier of docs/examples,
// written from the spec alone, and axontask verify agree on a fresh export
// and receipt of a real dev process (verified, with a newer checkpoint that
// extends the receipt's) and on tampered copies, naming the same failure.
// It needs Node.js and the npm registry; without Node it skips, except in
// CI, which must have it.
func TestJavaScriptVerifierAgrees(t *testing.T) {
	t.Parallel()
	node := testnode.Node(t, jsVerifierDir, "the JavaScript verifier")
	dir := t.TempDir()
	dev := startDevIn(t, dir)
	c := newClientCLI(t, dev.base, dev.key)
	run := func(args string) string {
		id := strings.TrimSpace(c.mustRun("", "task", "start", "-adapter", "mock", "-args", args).stdout)
		c.waitState(id, "succeeded")
		return id
	}
	id := run(`{"steps":3,"interval_ms":5}`)
	files := t.TempDir()
	path := func(name string) string { return filepath.Join(files, name) }
	write(t, path("receipt.json"), c.mustRun("", "task", "receipt", id).stdout)
	run(`{"steps":2,"interval_ms":5}`) // the log grows past the receipt's checkpoint
	var receipt integrity.Receipt
	if err := json.Unmarshal([]byte(readFile(t, path("receipt.json"))), &receipt); err != nil {
		t.Fatal(err)
	}
	sdk, err := client.New(dev.base, client.WithToken(dev.key))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sdk.LogKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	text, _ := integrity.CheckpointText([]byte(receipt.Checkpoint))
	cp, _ := integrity.ParseCheckpoint(text)
	var newer integrity.Newer
	for deadline := time.Now().Add(20 * time.Second); newer.Consistency.New <= cp.Size; time.Sleep(50 * time.Millisecond) {
		if newer, err = sdk.NewerCheckpoint(t.Context(), cp.Size); err != nil || time.Now().After(deadline) {
			t.Fatalf("no newer checkpoint than size %d: %v", cp.Size, err)
		}
	}
	b, _ := json.Marshal(newer)
	write(t, path("newer.json"), string(b))
	out, errOut, code := runCLI(t, "", "export", "-sqlite", filepath.Join(dir, "events.db"), "-stream", id)
	if code != exitOK {
		t.Fatalf("export: %s", errOut)
	}
	write(t, path("task.jsonl"), out)

	both := func(name, export, receiptFile, receiptKey string, wantKind string) {
		t.Helper()
		args := []string{export, "--receipt", receiptFile, "--receipt-key", receiptKey, "--log-key", keys.Log[0], "--newer", path("newer.json")}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(jsVerifierDir, "verify.mjs")}, args...)...)
		var jsOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &jsOut, &jsOut
		jsErr := cmd.Run()
		goOut, goErr, goCode := runCLI(t, "", "verify", "-json", "-receipt", receiptFile, "-receipt-key", receiptKey, "-log-key", keys.Log[0], "-newer", path("newer.json"), export)
		var result struct {
			Failure    *struct{ Kind string } `json:"failure"`
			LogFailure *struct{ Kind string } `json:"log_failure"`
		}
		if err := json.Unmarshal([]byte(goOut), &result); err != nil {
			t.Fatalf("%s: verify -json: %v\n%s", name, err, goOut)
		}
		goKind := ""
		if result.Failure != nil {
			goKind = result.Failure.Kind
		} else if result.LogFailure != nil {
			goKind = result.LogFailure.Kind
		}
		if wantKind == "" {
			if jsErr != nil || goCode != exitOK || !strings.Contains(jsOut.String(), "extends it") {
				t.Errorf("%s: JavaScript %v:\n%s\nGo exit %d:\n%s%s", name, jsErr, jsOut.String(), goCode, goOut, goErr)
			}
		} else if cmd.ProcessState.ExitCode() != 1 || goCode != exitFailed || !strings.Contains(jsOut.String(), "FAILED: "+wantKind+":") || goKind != wantKind {
			t.Errorf("%s: want %s from both; JavaScript exit %d:\n%s\nGo exit %d: %s", name, wantKind, cmd.ProcessState.ExitCode(), jsOut.String(), goCode, goErr)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(jsOut.String()))
	}
	both("fresh", path("task.jsonl"), path("receipt.json"), keys.Receipts[0], "")

	lines := strings.SplitAfter(strings.TrimSpace(readFile(t, path("task.jsonl"))), "\n")
	write(t, path("truncated.jsonl"), strings.Join(lines[:len(lines)-1], ""))
	both("truncated", path("truncated.jsonl"), path("receipt.json"), keys.Receipts[0], "truncated")
	write(t, path("altered.jsonl"), strings.Replace(readFile(t, path("task.jsonl")), `"steps":3`, `"steps":4`, 1))
	both("payload altered", path("altered.jsonl"), path("receipt.json"), keys.Receipts[0], "wrong_digest")
	both("another key", path("task.jsonl"), path("receipt.json"), keys.Log[0], "receipt_signature")
	forged := receipt
	forged.InclusionProof = append([]string{forged.InclusionProof[0]}, forged.InclusionProof...)
	b, _ = json.Marshal(forged)
	write(t, path("forged.json"), string(b))
	both("inclusion proof altered", path("task.jsonl"), path("forged.json"), keys.Receipts[0], "not_included")
}
