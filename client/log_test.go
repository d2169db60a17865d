package client_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
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

// TestLyingLogIsCaught: a server that shows a newer checkpoint of another
// tree (signed with its real key) than the one its receipt committed to is
// caught by the receipt's verification: a fork at the same size, and an
// inconsistent tree at a larger one.
func TestLyingLogIsCaught(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		id := start(t, c, mockArgs).TaskID
		events := follow(t, c, id, client.StreamOptions{})
		r, err := c.TaskReceipt(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		var export []byte
		for i := range events {
			export, _ = events[i].AppendJSON(export)
			export = append(export, '\n')
		}
		signer, vkey, _ := integrity.Ed25519Signer("test.axontask.local/log", bytes.Repeat([]byte{1}, 32))
		_, rvkey, _ := integrity.Ed25519Signer("test.axontask.local/log/receipts", bytes.Repeat([]byte{2}, 32))
		var keys integrity.ReceiptKeys
		keys.Log, _ = note.NewVerifier(vkey)
		keys.Receipt, _ = note.NewVerifier(rvkey)
		text, _ := integrity.CheckpointText([]byte(r.Checkpoint))
		honest, _ := integrity.ParseCheckpoint(text)
		for _, lie := range []struct {
			size int64
			kind integrity.LogKind
		}{{honest.Size, integrity.Forked}, {honest.Size + 1, integrity.Inconsistent}} {
			forged, err := integrity.SignCheckpoint(integrity.Checkpoint{Origin: honest.Origin, Size: lie.size, Root: sha256.Sum256([]byte("another tree"))}, signer)
			if err != nil {
				t.Fatal(err)
			}
			b.setFault(func(w http.ResponseWriter, req *http.Request) bool {
				switch req.URL.Path {
				case "/v1/log/checkpoint":
					_, _ = w.Write(forged)
					return true
				case "/v1/log/proof/consistency":
					w.Header().Set("Content-Type", "application/json")
					_, _ = fmt.Fprintf(w, `{"old":%d,"new":%d,"hashes":[]}`, honest.Size, lie.size)
					return true
				}
				return false
			})
			newer, err := c.NewerCheckpoint(t.Context(), honest.Size)
			if err != nil {
				t.Fatal(err)
			}
			_, err = integrity.VerifyReceiptExport(bytes.NewReader(export), &r, keys, &newer)
			var lerr *integrity.LogError
			if !errors.As(err, &lerr) || lerr.Kind != lie.kind {
				t.Fatalf("a lie at size %d: %v, want %s", lie.size, err, lie.kind)
			}
		}
		b.setFault(nil)
	})
}
