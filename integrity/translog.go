package integrity

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
)

// The transparency log (docs/integrity.md section 8): the global feed is a
// Merkle tree in the RFC 6962 / RFC 9162 shape, whose leaf n is the entry of
// the event at feed position n. Checkpoints are C2SP tlog-checkpoint signed
// notes; proofs are golang.org/x/mod/sumdb/tlog's, which follow RFC 6962.

// LeafHash returns the Merkle tree leaf of e: SHA-256(0x00 || entry), the
// entry of section 4. The payload is not part of it (only its digest is), so
// pruning a payload changes no leaf.
func LeafHash(e *domain.Event) domain.Hash {
	var scratch [1024]byte // as EntryHash: no heap allocation
	return domain.Hash(tlog.RecordHash(AppendEntry(scratch[:0], e)))
}

// NodeHash returns an inner node of the tree: SHA-256(0x01 || left || right).
func NodeHash(left, right domain.Hash) domain.Hash {
	return domain.Hash(tlog.NodeHash(tlog.Hash(left), tlog.Hash(right)))
}

// Checkpoint is a tree head: the log's origin line, its size (the number of
// leaves) and its root hash. Body renders it in the C2SP tlog-checkpoint
// form that a signed note carries.
type Checkpoint struct {
	// Origin names the log, and so the deployment: e.g. "axontask.example.com/log".
	Origin string
	// Size is the number of leaves, the feed positions 0 … Size-1.
	Size int64
	// Root is the Merkle tree hash of those leaves (SHA-256 of the empty
	// string for size 0).
	Root domain.Hash
}

// Body returns the checkpoint's note text: three lines, each ending in LF,
// "<origin>\n<size>\n<base64 root>\n".
func (c Checkpoint) Body() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint parses a checkpoint note's text (not its signatures):
// an origin line, the size in decimal without leading zeros and the base64
// root; extension lines after them are allowed and ignored, as C2SP says.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.SplitN(string(text), "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, errors.New("checkpoint: want an origin, a size and a root hash, each on a line of its own")
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" || strings.ContainsFunc(c.Origin, isControl) {
		return Checkpoint{}, errors.New("checkpoint: the origin line is empty or holds a control character")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || lines[1] != strconv.FormatInt(n, 10) {
		return Checkpoint{}, fmt.Errorf("checkpoint: size %q is not a non-negative decimal number", lines[1])
	}
	c.Size = n
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != domain.HashSize {
		return Checkpoint{}, fmt.Errorf("checkpoint: root %q is not 32 bytes in base64", lines[2])
	}
	copy(c.Root[:], root)
	return c, nil
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// SignCheckpoint returns c as a signed note, signed by signer. The key's name
// must be c.Origin, as C2SP tlog-checkpoint recommends.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	if signer.Name() != c.Origin {
		return nil, fmt.Errorf("sign checkpoint: the key is named %q, not the origin %q", signer.Name(), c.Origin)
	}
	signed, err := note.Sign(&note.Note{Text: string(c.Body())}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return signed, nil
}

// OpenCheckpoint verifies a signed checkpoint note against the log's
// verifier key (and ignores signatures by other keys, such as witnesses'
// cosignatures) and returns the checkpoint. It fails with a *LogError of kind
// CheckpointSignature when the note is not signed by that key, and
// BadCheckpoint when it is malformed.
func OpenCheckpoint(msg []byte, logKey note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(logKey))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified), errors.As(err, &invalid):
		return Checkpoint{}, &LogError{Kind: CheckpointSignature, Detail: fmt.Sprintf("the checkpoint is not signed by the log key %s: %v", verifierID(logKey), err)}
	case err != nil:
		return Checkpoint{}, &LogError{Kind: BadCheckpoint, Detail: err.Error()}
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, &LogError{Kind: BadCheckpoint, Detail: err.Error()}
	}
	if c.Origin != logKey.Name() {
		return Checkpoint{}, &LogError{Kind: BadCheckpoint, Detail: fmt.Sprintf("the checkpoint's origin %q is not the log key's name %q", c.Origin, logKey.Name())}
	}
	return c, nil
}

// verifierID renders a key as "<name>+<8 hex digits of its key hash>", the
// key id of receipts and of note signature lines.
func verifierID(v interface {
	Name() string
	KeyHash() uint32
}) string {
	return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())
}

// CheckInclusion checks that leaf is the leaf at index of the tree that cp
// describes, with the RFC 6962 audit path proof. It fails with a *LogError of
// kind NotIncluded.
func CheckInclusion(proof []domain.Hash, cp Checkpoint, index int64, leaf domain.Hash) error {
	if index < 0 || index >= cp.Size {
		return &LogError{Kind: NotIncluded, Detail: fmt.Sprintf("leaf index %d is outside the checkpoint's tree of size %d", index, cp.Size)}
	}
	if err := tlog.CheckRecord(toTlog(proof), cp.Size, tlog.Hash(cp.Root), index, tlog.Hash(leaf)); err != nil {
		return &LogError{Kind: NotIncluded, Detail: fmt.Sprintf("the inclusion proof of leaf %d does not lead to the root of the tree of size %d: %v", index, cp.Size, err)}
	}
	return nil
}

// CheckConsistency checks that newer's tree extends older's, with the RFC
// 6962 consistency proof: the log only grew between them. Two checkpoints of
// one size with different roots are a fork (kind Forked); any other failure
// is kind Inconsistent.
func CheckConsistency(proof []domain.Hash, older, newer Checkpoint) error {
	switch {
	case older.Origin != newer.Origin:
		return &LogError{Kind: Inconsistent, Detail: fmt.Sprintf("the checkpoints are of two logs, %q and %q", older.Origin, newer.Origin)}
	case older.Size == newer.Size && older.Root != newer.Root:
		return &LogError{Kind: Forked, Detail: fmt.Sprintf("two checkpoints of size %d have different roots: the log shows different views", older.Size)}
	case older.Size > newer.Size:
		return &LogError{Kind: Inconsistent, Detail: fmt.Sprintf("the newer checkpoint (size %d) is smaller than the older (size %d)", newer.Size, older.Size)}
	}
	if err := tlog.CheckTree(toTlog(proof), newer.Size, tlog.Hash(newer.Root), older.Size, tlog.Hash(older.Root)); err != nil {
		return &LogError{Kind: Inconsistent, Detail: fmt.Sprintf("the tree of size %d does not extend the tree of size %d: %v", newer.Size, older.Size, err)}
	}
	return nil
}

func toTlog(hashes []domain.Hash) []tlog.Hash {
	out := make([]tlog.Hash, len(hashes))
	for i, h := range hashes {
		out[i] = tlog.Hash(h)
	}
	return out
}

// LogKind says which check of a receipt or of the transparency log failed.
type LogKind int

// The kinds of LogError.
const (
	// BadReceipt: the receipt is malformed or is not of the task verified.
	BadReceipt LogKind = iota + 1
	// ReceiptSignature: the receipt is not signed by the pinned receipt key.
	ReceiptSignature
	// BadCheckpoint: a checkpoint note is malformed or of another log.
	BadCheckpoint
	// CheckpointSignature: a checkpoint is not signed by the log key.
	CheckpointSignature
	// Truncated: the export ends before the receipt's last event.
	Truncated
	// HeadMismatch: the export's event at the receipt's last seq is not the
	// one the receipt signed (another hash, type, tenant or position).
	HeadMismatch
	// NotIncluded: the inclusion proof fails.
	NotIncluded
	// Inconsistent: a newer checkpoint does not extend an older one.
	Inconsistent
	// Forked: two checkpoints of one size have different roots.
	Forked
	// WitnessQuorum: a checkpoint carries fewer valid witness
	// cosignatures than the verifier requires.
	WitnessQuorum
)

var logKindNames = [...]string{
	BadReceipt:          "bad_receipt",
	ReceiptSignature:    "receipt_signature",
	BadCheckpoint:       "bad_checkpoint",
	CheckpointSignature: "checkpoint_signature",
	Truncated:           "truncated",
	HeadMismatch:        "head_mismatch",
	NotIncluded:         "not_included",
	Inconsistent:        "inconsistent",
	Forked:              "forked",
	WitnessQuorum:       "witness_quorum",
}

// String returns the kind's snake_case name, e.g. "not_included".
func (k LogKind) String() string {
	if k > 0 && int(k) < len(logKindNames) {
		return logKindNames[k]
	}
	return fmt.Sprintf("log_kind(%d)", int(k))
}

// MarshalText renders the kind by its name, for JSON reports.
func (k LogKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LogError names the check of a receipt or checkpoint that failed.
type LogError struct {
	Kind   LogKind `json:"kind"`
	Detail string  `json:"detail"`
}

func (e *LogError) Error() string { return e.Kind.String() + ": " + e.Detail }

// ParseProof decodes proof hashes from base64 (the JSON form of proofs and
// receipts).
func ParseProof(b64 []string) ([]domain.Hash, error) {
	out := make([]domain.Hash, len(b64))
	for i, s := range b64 {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != domain.HashSize {
			return nil, fmt.Errorf("proof hash %d (%q) is not 32 bytes in base64", i, s)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// FormatProof encodes proof hashes in base64, in the order given.
func FormatProof(hashes []domain.Hash) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

// CheckpointText returns the note text of a signed note (the part before
// the blank line), without checking any signature.
func CheckpointText(msg []byte) ([]byte, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("the checkpoint is not a signed note (no blank line before its signatures)")
	}
	return msg[:i+1], nil
}
