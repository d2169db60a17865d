package engine

import (
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateMerkleTreeGrow checks MerkleTreeGrow's arguments and returns the
// storage index of the first hash.
func ValidateMerkleTreeGrow(oldSize, newSize int64, hashes []domain.Hash) (int64, error) {
	if oldSize < 0 || newSize <= oldSize {
		return 0, &domain.ValidationError{Field: "new_size", Reason: fmt.Sprintf("grows the tree from %d to %d leaves; it must grow from a size of 0 or more", oldSize, newSize)}
	}
	first := tlog.StoredHashCount(oldSize)
	if want := tlog.StoredHashCount(newSize) - first; int64(len(hashes)) != want {
		return 0, &domain.ValidationError{Field: "hashes", Reason: fmt.Sprintf("holds %d hashes; leaves %d to %d add %d", len(hashes), oldSize, newSize-1, want)}
	}
	return first, nil
}

// OrderMerkleHashes returns the hashes found (by storage index) in the
// order of indexes, or a *domain.ValidationError naming the first index not
// stored.
func OrderMerkleHashes(indexes []int64, found map[int64]domain.Hash) ([]domain.Hash, error) {
	out := make([]domain.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, &domain.ValidationError{Field: "indexes", Reason: fmt.Sprintf("hash %d is not stored: the tree is smaller", x)}
		}
		out[i] = h
	}
	return out, nil
}

// ValidateMerkleCheckpoint checks a checkpoint before MerkleCheckpointPut
// stores it, and stamps it with now (UTC, microseconds).
func ValidateMerkleCheckpoint(cp eventstore.MerkleCheckpoint, now time.Time) (eventstore.MerkleCheckpoint, error) {
	switch {
	case cp.Size < 0:
		return cp, &domain.ValidationError{Field: "size", Reason: "must not be negative"}
	case len(cp.Note) == 0:
		return cp, &domain.ValidationError{Field: "note", Reason: "is empty; store the signed note"}
	}
	cp.CreatedAt = now.UTC().Truncate(time.Microsecond)
	return cp, nil
}
