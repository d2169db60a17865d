package integrity_test

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// TestReceiptTamper: every way of lying about a task's log that a receipt
// exposes is detected, and named by the first check that fails.
func TestReceiptTamper(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t)
	otherSigner, _, _, _, _ := vectorKeys(t) // the log key: not the receipt key
	forkedTree := &memTree{}
	forked := append([]domain.Event(nil), f.events...)
	forked[2].Type = domain.TaskQueuedType // another stream's event, rewritten in the tree behind the receipt
	for i := range forked {
		forkedTree.add(t, int64(i), integrity.LeafHash(&forked[i]))
	}
	cases := []struct {
		name    string
		events  func([]domain.Event) []domain.Event
		receipt func(*integrity.Receipt)
		newer   func() *integrity.Newer
		kind    any
	}{
		{name: "event altered after its checkpoint", events: func(es []domain.Event) []domain.Event {
			es[3].Payload = []byte(`{"data":"forged","offset":0,"stream":"stdout"}`)
			return es
		}, kind: integrity.WrongDigest},
		{name: "event altered and the chain rehashed", events: func(es []domain.Event) []domain.Event {
			es[3].Type = domain.TaskProgressType
			rehash(&es[3])
			es[4].HashPrev = es[3].Hash
			rehash(&es[4])
			return es
		}, kind: integrity.HeadMismatch},
		{name: "log truncated before the receipt's index", events: func(es []domain.Event) []domain.Event {
			return es[:4]
		}, kind: integrity.Truncated},
		{name: "receipt for another task", events: func(es []domain.Event) []domain.Event {
			return es[2:3] // task B only
		}, kind: integrity.BadReceipt},
		{name: "receipt signed by another key", receipt: func(r *integrity.Receipt) {
			if err := integrity.SignReceipt(r, otherSigner); err != nil {
				t.Fatal(err)
			}
		}, kind: integrity.ReceiptSignature},
		{name: "receipt altered", receipt: func(r *integrity.Receipt) { r.State = domain.StateFailed }, kind: integrity.ReceiptSignature},
		{name: "inclusion proof altered", receipt: func(r *integrity.Receipt) {
			r.InclusionProof = f.tree.inclusion(t, 3, 5)
		}, kind: integrity.NotIncluded},
		{name: "two checkpoints of one size with different roots", newer: func() *integrity.Newer {
			return &integrity.Newer{Checkpoint: f.sign(t, forkedTree.checkpoint(t, 5)), Consistency: integrity.ConsistencyProof{Old: 5, New: 5}}
		}, kind: integrity.Forked},
		{name: "newer checkpoint inconsistent with the receipt's", newer: func() *integrity.Newer {
			forkedTree.add(t, 5, integrity.LeafHash(&f.events[0]))
			return &integrity.Newer{Checkpoint: f.sign(t, forkedTree.checkpoint(t, 6)),
				Consistency: integrity.ConsistencyProof{Old: 5, New: 6, Hashes: forkedTree.consistency(t, 5, 6)}}
		}, kind: integrity.Inconsistent},
		{name: "newer checkpoint signed by another key", newer: func() *integrity.Newer {
			cp, err := integrity.SignCheckpoint(f.tree.checkpoint(t, 5), otherSignerFor(t))
			if err != nil {
				t.Fatal(err)
			}
			return &integrity.Newer{Checkpoint: string(cp), Consistency: integrity.ConsistencyProof{Old: 5, New: 5}}
		}, kind: integrity.CheckpointSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := append([]domain.Event(nil), f.events...)
			if tc.events != nil {
				events = tc.events(events)
			}
			r := f.file.Receipt
			r.InclusionProof = append([]string(nil), r.InclusionProof...)
			if tc.receipt != nil {
				tc.receipt(&r)
			}
			var newer *integrity.Newer
			if tc.newer != nil {
				newer = tc.newer()
			}
			_, err := integrity.VerifyReceiptExport(bytes.NewReader(exportLines(t, events)), &r, f.keys, newer)
			var verr *integrity.VerifyError
			var lerr *integrity.LogError
			switch want := tc.kind.(type) {
			case integrity.Kind:
				if !errors.As(err, &verr) || verr.Kind != want {
					t.Fatalf("got %v, want a %s failure", err, want)
				}
			case integrity.LogKind:
				if !errors.As(err, &lerr) || lerr.Kind != want {
					t.Fatalf("got %v, want a %s failure", err, want)
				}
			}
			t.Log(err)
		})
	}
}

// otherSignerFor returns a key named as the log but with another seed: a
// checkpoint it signs claims to be the log's.
func otherSignerFor(t *testing.T) note.Signer {
	s, _, err := integrity.Ed25519Signer(vectorOrigin, seedBytes(0x10))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
