package client_test

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/translog"
)

// newLog returns a transparency log on s with fixed test keys.
func newLog(s translog.Store) (*translog.Log, error) {
	signer, vkey, err := integrity.Ed25519Signer("test.axontask.local/log", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		return nil, err
	}
	rsigner, rvkey, err := integrity.Ed25519Signer("test.axontask.local/log/receipts", bytes.Repeat([]byte{2}, 32))
	if err != nil {
		return nil, err
	}
	return translog.New(translog.Config{Store: s, Signer: signer, SignerKey: vkey, ReceiptSigner: rsigner, ReceiptKey: rvkey,
		CheckpointInterval: 50 * time.Millisecond})
}

// TestTaskReceipt: an ended task's receipt, with the log's keys and a newer
// checkpoint from the SDK, verifies against the task's events; a running
// task has none; another tenant's task is not found.
func TestTaskReceipt(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		id := start(t, c, mockArgs).TaskID
		events := follow(t, c, id, client.StreamOptions{})
		r, err := c.TaskReceipt(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := c.LogKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var pinned integrity.ReceiptKeys
		if pinned.Log, err = note.NewVerifier(keys.Log[0]); err != nil {
			t.Fatal(err)
		}
		if pinned.Receipt, err = note.NewVerifier(keys.Receipts[0]); err != nil {
			t.Fatal(err)
		}
		var export []byte
		for i := range events {
			export, _ = events[i].AppendJSON(export)
			export = append(export, '\n')
		}
		checkpoint, _ := integrity.ParseCheckpoint([]byte(r.Checkpoint))
		newer, err := c.NewerCheckpoint(t.Context(), checkpoint.Size)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := integrity.VerifyReceiptExport(bytes.NewReader(export), &r, pinned, &newer); err != nil {
			t.Fatal(err)
		}
		_, err = b.client(t, tenantB).TaskReceipt(t.Context(), id)
		checkStatus(t, err, 404)
		long := start(t, c, map[string]int{"steps": 1000, "interval_ms": 100})
		_, err = c.TaskReceipt(t.Context(), long.TaskID)
		if apiErr := apiError(t, err, 400); apiErr.Field != "id" {
			t.Fatalf("receipt of a running task: %v", err)
		}
	})
}
