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
}

// MerkleStore keeps the transparency log's Merkle tree over the global
// feed (leaf n is the entry of the event at feed position n; see package
// integrity) and its signed checkpoints, in the same database as the log.
// Hashes are addressed by their index in golang.org/x/mod/sumdb/tlog's
// stored-hash order (tlog.StoredHashIndex); a stored hash never changes and
// the tree only grows (engines keep them in blocks of consecutive indexes). It is a port of its own beside the log
// (see Store); package translog builds and reads the tree through it. Both
// engines' stores implement it; eventstore/storetest.RunMerkle is its
// conformance suite. Every method sees every call that has returned.
type MerkleStore interface {
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
	// MerkleCheckpointLatest returns the checkpoint of the largest size;
	// found is false when none is stored.
	MerkleCheckpointLatest(ctx context.Context) (cp MerkleCheckpoint, found bool, err error)
	// MerkleCheckpointGet returns the checkpoint of size; found is false
	// when none is stored for it.
	MerkleCheckpointGet(ctx context.Context, size int64) (cp MerkleCheckpoint, found bool, err error)
}
