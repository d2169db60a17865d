package integrity

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/domain"
)

// ReceiptVersion is the first line of a receipt's signed bytes.
const ReceiptVersion = "axontask-receipt/v1"

// Receipt is the signed statement that a task ended in State at LastSeq with
// the head HeadHash, and that its terminal event is leaf LeafIndex of the
// transparency log's tree in Checkpoint (docs/integrity.md section 9). It is
// the JSON answer of GET /mcp/tasks/{id}/receipt.
type Receipt struct {
	TaskID   string           `json:"task_id"`
	TenantID string           `json:"tenant_id"`
	State    domain.TaskState `json:"state"`
	LastSeq  int64            `json:"last_seq"`
	// HeadHash is the hash of the terminal event (lowercase hex).
	HeadHash domain.Hash `json:"head_hash"`
	// LeafIndex is the terminal event's feed position: its leaf in the tree.
	LeafIndex int64 `json:"leaf_index"`
	// Checkpoint is the signed checkpoint note whose tree holds the leaf.
	Checkpoint string `json:"checkpoint"`
	// InclusionProof is the RFC 6962 audit path of the leaf in that tree,
	// base64 hashes.
	InclusionProof []string `json:"inclusion_proof"`
	// KeyID names the receipt key: "<name>+<8 hex digits of its note key hash>".
	KeyID string `json:"key_id"`
	// Signature is the base64 Ed25519 signature of SignedBytes.
	Signature string `json:"signature"`
}

// SignedBytes returns the bytes the receipt's signature covers: UTF-8 lines,
// each ending in LF: ReceiptVersion, task_id, tenant_id, state, last_seq,
// head_hash (lowercase hex), leaf_index, then the checkpoint's three lines
// (origin, size, base64 root) as its note carries them.
func (r *Receipt) SignedBytes() ([]byte, error) {
	text, err := CheckpointText([]byte(r.Checkpoint))
	if err != nil {
		return nil, err
	}
	cp, err := ParseCheckpoint(text)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 512)
	for _, line := range []string{ReceiptVersion, r.TaskID, r.TenantID, string(r.State), strconv.FormatInt(r.LastSeq, 10),
		hex.EncodeToString(r.HeadHash[:]), strconv.FormatInt(r.LeafIndex, 10)} {
		b = append(b, line...)
		b = append(b, '\n')
	}
	return append(b, cp.Body()...), nil
}

// SignReceipt sets r's KeyID and Signature, signing with signer (an Ed25519
// note key).
func SignReceipt(r *Receipt, signer note.Signer) error {
	msg, err := r.SignedBytes()
	if err != nil {
		return fmt.Errorf("sign receipt: %w", err)
	}
	sig, err := signer.Sign(msg)
	if err != nil {
		return fmt.Errorf("sign receipt: %w", err)
	}
	r.KeyID = verifierID(signer)
	r.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// ReceiptKeys are the public keys an auditor pins to check a receipt.
type ReceiptKeys struct {
	// Receipt verifies receipts' signatures; required.
	Receipt note.Verifier
	// Log, when set, verifies the checkpoint note inside the receipt (and any
	// newer checkpoint). Without it the checkpoint is trusted as far as the
	// receipt's signature covers it.
	Log note.Verifier
}

// CheckSignature checks r's signature against keys.Receipt and returns the
// checkpoint r names (its note verified by keys.Log when set).
func (r *Receipt) CheckSignature(keys ReceiptKeys) (Checkpoint, error) {
	if want := verifierID(keys.Receipt); r.KeyID != want {
		return Checkpoint{}, &LogError{Kind: ReceiptSignature, Detail: fmt.Sprintf("the receipt is signed by key %q, not by the pinned key %q", r.KeyID, want)}
	}
	msg, err := r.SignedBytes()
	if err != nil {
		return Checkpoint{}, &LogError{Kind: BadReceipt, Detail: err.Error()}
	}
	sig, err := base64.StdEncoding.DecodeString(r.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || !keys.Receipt.Verify(msg, sig) {
		return Checkpoint{}, &LogError{Kind: ReceiptSignature, Detail: fmt.Sprintf("the signature does not verify with the pinned key %q: the receipt was altered or signed by another key", r.KeyID)}
	}
	if keys.Log != nil {
		return OpenCheckpoint([]byte(r.Checkpoint), keys.Log)
	}
	text, _ := CheckpointText([]byte(r.Checkpoint)) // SignedBytes parsed it
	return ParseCheckpoint(text)
}

// CheckEvent checks that e is the event r speaks of (the task's terminal
// event, with r's seq, hash, tenant and feed position) and that its leaf is
// included in cp's tree by r's inclusion proof.
func (r *Receipt) CheckEvent(e *domain.Event, cp Checkpoint) error {
	mismatch := func(what string, got, want any) error {
		return &LogError{Kind: HeadMismatch, Detail: fmt.Sprintf("the event at seq %d has %s %v, the receipt says %v", e.Seq, what, got, want)}
	}
	switch {
	case e.StreamID != r.TaskID:
		return &LogError{Kind: BadReceipt, Detail: fmt.Sprintf("the receipt is for task %s, not %s", r.TaskID, e.StreamID)}
	case e.Seq != r.LastSeq:
		return mismatch("seq", e.Seq, r.LastSeq)
	case e.Hash != r.HeadHash:
		return mismatch("hash", hex.EncodeToString(e.Hash[:]), hex.EncodeToString(r.HeadHash[:]))
	case e.TenantID != r.TenantID:
		return mismatch("tenant", e.TenantID, r.TenantID)
	case TerminalState(e.Type) != r.State:
		return mismatch("type", e.Type, "the end in state "+string(r.State))
	case e.Position != domain.NoPosition && e.Position != r.LeafIndex:
		// An event without a position (as a task's stream serves it) is
		// placed by the proof alone: it leads to the root only from the
		// receipt's leaf index.
		return mismatch("feed position", e.Position, r.LeafIndex)
	}
	proof, err := ParseProof(r.InclusionProof)
	if err != nil {
		return &LogError{Kind: BadReceipt, Detail: err.Error()}
	}
	return CheckInclusion(proof, cp, r.LeafIndex, LeafHash(e))
}

// TerminalState is the state a terminal event of type t ends its task in
// ("" for any other type).
func TerminalState(t domain.EventType) domain.TaskState {
	switch t {
	case domain.TaskSucceededType:
		return domain.StateSucceeded
	case domain.TaskFailedType:
		return domain.StateFailed
	case domain.TaskCanceledType:
		return domain.StateCanceled
	case domain.TaskTimedOutType:
		return domain.StateTimedOut
	default:
		return ""
	}
}

// Newer is a checkpoint later than a receipt's, with the consistency proof
// from the receipt's tree to it: proof that the log only grew since.
type Newer struct {
	// Checkpoint is the signed note.
	Checkpoint string `json:"checkpoint"`
	// Consistency is the proof from the receipt's tree size to the
	// checkpoint's, in the JSON form of GET /v1/log/proof/consistency.
	Consistency ConsistencyProof `json:"consistency"`
}

// ConsistencyProof is the JSON answer of GET /v1/log/proof/consistency: the
// RFC 6962 proof that the tree of size New extends the tree of size Old.
type ConsistencyProof struct {
	Old    int64    `json:"old"`
	New    int64    `json:"new"`
	Hashes []string `json:"hashes"`
}

// InclusionProof is the JSON answer of GET /v1/log/proof/inclusion: the
// RFC 6962 audit path of leaf Index in the tree of size Size.
type InclusionProof struct {
	Index  int64    `json:"index"`
	Size   int64    `json:"size"`
	Hashes []string `json:"hashes"`
}

// ReceiptReport is what VerifyReceiptExport proved.
type ReceiptReport struct {
	// Summary is the export's chain verification.
	Summary Summary `json:"summary"`
	// Checkpoint is the receipt's tree head; Newer the newer one proven
	// consistent with it, if one was given.
	Checkpoint Checkpoint  `json:"-"`
	Newer      *Checkpoint `json:"-"`
}

// VerifyReceiptExport proves, in this order, and stops at the first failure:
// (a) the export's chains (a *VerifyError); (b) the receipt's signature
// against keys (and the checkpoint note's, with keys.Log); (c) that the
// export holds the receipt's task up to its terminal event, which the
// receipt names and whose leaf the signed tree includes; (d) when newer is
// given, that its checkpoint (signed by keys.Log, required then) extends the
// receipt's. Failures after (a) are *LogErrors.
func VerifyReceiptExport(export io.Reader, r *Receipt, keys ReceiptKeys, newer *Newer) (ReceiptReport, error) {
	var rep ReceiptReport
	v := NewVerifier()
	var terminal domain.Event
	found := false
	err := ParseAnyExport(export, func(e *domain.Event) error {
		if err := v.Add(e); err != nil {
			return err
		}
		if e.StreamID == r.TaskID && e.Seq == r.LastSeq {
			terminal, found = *e, true
		}
		return nil
	})
	rep.Summary, _ = v.Done()
	if err != nil {
		return rep, err
	}
	if rep.Summary.Events == 0 {
		return rep, ErrNoEvents
	}
	cp, err := r.CheckSignature(keys)
	if err != nil {
		return rep, err
	}
	rep.Checkpoint = cp
	if err := r.checkHead(rep.Summary, found); err != nil {
		return rep, err
	}
	if err := r.CheckEvent(&terminal, cp); err != nil {
		return rep, err
	}
	if newer == nil {
		return rep, nil
	}
	nc, err := newer.check(cp, keys.Log)
	if err != nil {
		return rep, err
	}
	rep.Newer = &nc
	return rep, nil
}

// checkHead checks that the export holds r's task up to its last seq and
// no further.
func (r *Receipt) checkHead(sum Summary, found bool) error {
	for _, s := range sum.Streams {
		if s.StreamID != r.TaskID {
			continue
		}
		switch {
		case s.HeadSeq < r.LastSeq:
			return &LogError{Kind: Truncated, Detail: fmt.Sprintf("the export's task %s ends at seq %d, before the receipt's last seq %d: events were cut off", r.TaskID, s.HeadSeq, r.LastSeq)}
		case s.HeadSeq > r.LastSeq || !found:
			return &LogError{Kind: HeadMismatch, Detail: fmt.Sprintf("the export's task %s goes on to seq %d past the receipt's last seq %d", r.TaskID, s.HeadSeq, r.LastSeq)}
		}
		return nil
	}
	return &LogError{Kind: BadReceipt, Detail: fmt.Sprintf("the export holds no event of task %s: the receipt is for another task", r.TaskID)}
}

// check verifies the newer checkpoint and its consistency with cp.
func (n *Newer) check(cp Checkpoint, logKey note.Verifier) (Checkpoint, error) {
	if logKey == nil {
		return Checkpoint{}, &LogError{Kind: CheckpointSignature, Detail: "a newer checkpoint needs the pinned log key to be checked"}
	}
	nc, err := OpenCheckpoint([]byte(n.Checkpoint), logKey)
	if err != nil {
		return Checkpoint{}, err
	}
	if n.Consistency.Old != cp.Size || n.Consistency.New != nc.Size {
		return Checkpoint{}, &LogError{Kind: Inconsistent, Detail: fmt.Sprintf("the consistency proof is from size %d to %d, not from the receipt's %d to the checkpoint's %d",
			n.Consistency.Old, n.Consistency.New, cp.Size, nc.Size)}
	}
	proof, err := ParseProof(n.Consistency.Hashes)
	if err != nil {
		return Checkpoint{}, &LogError{Kind: Inconsistent, Detail: err.Error()}
	}
	return nc, CheckConsistency(proof, cp, nc)
}

// ExportProofs is what "axontask export -with-proofs" writes beside an
// export: a signed checkpoint and the inclusion proof, in its tree, of each
// exported event that it covers, in the export's order.
type ExportProofs struct {
	Checkpoint string           `json:"checkpoint"`
	Inclusion  []InclusionProof `json:"inclusion"`
}

// ProofReport is what VerifyExportProofs proved.
type ProofReport struct {
	Summary Summary `json:"summary"`
	// Size is the checkpoint's tree size; Included counts the events
	// proven to be its leaves, Uncovered those at or past its size.
	Size      int64 `json:"size"`
	Included  int64 `json:"included"`
	Uncovered int64 `json:"uncovered"`
}

// VerifyExportProofs verifies an export's chains and proves that each of
// its events with a feed position below the checkpoint's size is that leaf
// of the checkpoint's tree (the checkpoint signed by logKey): no exported
// event was altered after the checkpoint. Events without a proof or
// position fail (BadCheckpoint names the event), as does a proof that does
// not lead to the root (NotIncluded).
func VerifyExportProofs(export io.Reader, proofs *ExportProofs, logKey note.Verifier) (ProofReport, error) {
	var rep ProofReport
	cp, err := OpenCheckpoint([]byte(proofs.Checkpoint), logKey)
	if err != nil {
		return rep, err
	}
	rep.Size = cp.Size
	byIndex := make(map[int64]*InclusionProof, len(proofs.Inclusion))
	for i := range proofs.Inclusion {
		byIndex[proofs.Inclusion[i].Index] = &proofs.Inclusion[i]
	}
	v := NewVerifier()
	err = ParseAnyExport(export, func(e *domain.Event) error {
		if err := v.Add(e); err != nil {
			return err
		}
		if e.Position != domain.NoPosition && e.Position >= cp.Size {
			rep.Uncovered++
			return nil
		}
		p := byIndex[e.Position]
		if e.Position == domain.NoPosition || p == nil || p.Size != cp.Size {
			return &LogError{Kind: NotIncluded, Detail: fmt.Sprintf("%s seq %d (position %d) has no inclusion proof in the tree of size %d", e.StreamID, e.Seq, e.Position, cp.Size)}
		}
		hashes, err := ParseProof(p.Hashes)
		if err != nil {
			return &LogError{Kind: NotIncluded, Detail: err.Error()}
		}
		if err := CheckInclusion(hashes, cp, e.Position, LeafHash(e)); err != nil {
			return err
		}
		rep.Included++
		return nil
	})
	rep.Summary, _ = v.Done()
	if err == nil && rep.Summary.Events == 0 {
		err = ErrNoEvents
	}
	return rep, err
}
