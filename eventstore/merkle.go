package eventstore

import (
	"context"
	"errors"
	"time"

	"github.com/axontask/axontask/domain"
)

// ErrMerkleTreeMoved is returned by MerkleStore.MerkleTreeGrow when the
// stored tree is not of the size the caller grew it from: another builder
// grew it first. Read the size again and carry on from there.
var ErrMerkleTreeMoved = errors.New("the Merkle tree has another size than the one it was grown from")

// MerkleCheckpoint is a signed tree head kept by the store: the tree's size
// and root and the signed note (C2SP tlog-checkpoint) that states them.
type MerkleCheckpoint struct {
	Size int64
	Root domain.Hash
	// Note is the signed checkpoint note, served as it is.
	Note []byte
	// CreatedAt is when it was first stored (UTC, microseconds).
	CreatedAt time.Time
	// Cosignatures are the signature lines witnesses returned for it
	// (C2SP tlog-cosignature), each ending in a newline, in the order of
	// the witnesses' keys; empty when none has cosigned it.
	Cosignatures []byte
}

// Signed returns the checkpoint's note with the witnesses' cosignature
// lines after the log's own signature: the note that GET
// /v1/log/checkpoint serves and that a verifier counts cosignatures on.
func (cp MerkleCheckpoint) Signed() []byte {
	return append(append(make([]byte, 0, len(cp.Note)+len(cp.Cosignatures)), cp.Note...), cp.Cosignatures...)
}

// Limits of a stored cosignature.
const (
	// MaxWitnessKeyLen bounds a witness's verifier key, which names it.
	MaxWitnessKeyLen = 512
	// MaxCosignatureLen bounds a cosignature line.
	MaxCosignatureLen = 1024
)

// MerkleStore keeps the transparency log's Merkle tree over the global
// feed (leaf n is the entry of the event at feed position n; see package
// integrity) and its signed checkpoints, in the same database as the log,
// and reads the feed's leaves for the tree's builder.
// Hashes are addressed by their index in golang.org/x/mod/sumdb/tlog's
// stored-hash order (tlog.StoredHashIndex); a stored hash never changes and
// the tree only grows (engines keep them in blocks of consecutive indexes). It is a port of its own beside the log
// (see Store); package translog builds and reads the tree through it. Both
// engines' stores implement it; eventstore/storetest.RunMerkle is its
// conformance suite. Every method sees every call that has returned.
type MerkleStore interface {
	// MerkleLeavesRead returns the leaves of the feed's events from
	// position from on, in feed order: integrity.LeafHash of each, up to
	// limit (clamped to Options.MaxReadLimit; a limit <= 0 reads that
	// many), as far as the feed goes. It reads only the fields of each
	// event's entry, which is all a leaf hashes, so it costs the tree's
	// builder a fraction of a ReadFeed. A negative from fails with a
	// *domain.ValidationError; a closed store with ErrClosed.
	MerkleLeavesRead(ctx context.Context, from int64, limit int) ([]domain.Hash, error)
	// MerkleTreeSize returns the number of leaves whose hashes are stored
	// (0 for a new store).
	MerkleTreeSize(ctx context.Context) (int64, error)
	// MerkleHashesRead returns the stored hashes at the given storage
	// indexes, in the order asked. An index that is not stored (at or past
	// tlog.StoredHashCount of the tree size) fails with a
	// *domain.ValidationError (field "indexes").
	MerkleHashesRead(ctx context.Context, indexes []int64) ([]domain.Hash, error)
	// MerkleTreeGrow stores the hashes that leaves oldSize … newSize-1 add
	// (tlog.StoredHashCount(newSize) - tlog.StoredHashCount(oldSize) of them,
	// from storage index tlog.StoredHashCount(oldSize) on) and sets the tree
	// size to newSize, in one transaction, if the tree is of size oldSize;
	// otherwise it fails with ErrMerkleTreeMoved and stores nothing. A wrong
	// number of hashes, or sizes with newSize <= oldSize or oldSize < 0,
	// fail with a *domain.ValidationError before any I/O.
	MerkleTreeGrow(ctx context.Context, oldSize, newSize int64, hashes []domain.Hash) error
	// MerkleCheckpointPut stores cp unless a checkpoint of cp.Size is stored
	// already, and returns the checkpoint stored for that size: cp, or the
	// earlier one. A caller that gets back another root than its own must
	// not publish its own (one size, one root). cp.CreatedAt is set by the
	// store. A negative size or an empty note fails with a
	// *domain.ValidationError.
	MerkleCheckpointPut(ctx context.Context, cp MerkleCheckpoint) (MerkleCheckpoint, error)
	// MerkleCosignaturePut stores line, the cosignature of the witness
	// whose verifier key is witness, on the checkpoint of size, unless that
	// witness's cosignature of that size is stored already (the first one
	// stays). line is one note signature line, ending in a newline. A
	// size without a checkpoint, an empty or overlong witness key
	// (MaxWitnessKeyLen) or line (MaxCosignatureLen), or a line that is not
	// one line, fail with a *domain.ValidationError and store nothing.
	MerkleCosignaturePut(ctx context.Context, size int64, witness string, line []byte) error
	// MerkleCosignedSize returns the largest checkpoint size the witness
	// whose verifier key is witness has cosigned; found is false when it
	// has cosigned none.
	MerkleCosignedSize(ctx context.Context, witness string) (size int64, found bool, err error)
	// MerkleCheckpointLatest returns the checkpoint of the largest size,
	// with its cosignatures; found is false when none is stored.
	MerkleCheckpointLatest(ctx context.Context) (cp MerkleCheckpoint, found bool, err error)
	// MerkleCheckpointGet returns the checkpoint of size, with its
	// cosignatures; found is false when none is stored for it.
	MerkleCheckpointGet(ctx context.Context, size int64) (cp MerkleCheckpoint, found bool, err error)
}
