package engine

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
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

// MerkleBlockHashes is how many consecutive stored hashes one row of
// merkle_blocks holds.
const MerkleBlockHashes = 256

// MerkleBlock is a row of merkle_blocks: hashes of consecutive storage
// indexes from Block*MerkleBlockHashes on, concatenated.
type MerkleBlock struct {
	Block  int64
	Hashes []byte
}

// SplitMerkleBlocks splits the hashes of storage indexes first, first+1, …
// into the rows of a grow: the end of the block first falls in, which
// holds extendFrom bytes before it (extend is nil when first starts a
// block), and the new blocks after it.
func SplitMerkleBlocks(first int64, hashes []domain.Hash) (extend *MerkleBlock, extendFrom int, fresh []MerkleBlock) {
	flat := make([]byte, 0, len(hashes)*domain.HashSize)
	for i := range hashes {
		flat = append(flat, hashes[i][:]...)
	}
	block, offset := first/MerkleBlockHashes, int(first%MerkleBlockHashes)
	if offset > 0 {
		n := min(MerkleBlockHashes-offset, len(hashes)) * domain.HashSize
		extend, extendFrom, flat = &MerkleBlock{Block: block, Hashes: flat[:n]}, offset*domain.HashSize, flat[n:]
		block++
	}
	for ; len(flat) > 0; block++ {
		n := min(MerkleBlockHashes*domain.HashSize, len(flat))
		fresh = append(fresh, MerkleBlock{Block: block, Hashes: flat[:n]})
		flat = flat[n:]
	}
	return extend, extendFrom, fresh
}

// MerkleBlocksOf returns the blocks that hold indexes, each once.
func MerkleBlocksOf(indexes []int64) []int64 {
	var blocks []int64
	seen := make(map[int64]bool, len(indexes))
	for _, x := range indexes {
		if b := x / MerkleBlockHashes; x >= 0 && !seen[b] {
			seen[b] = true
			blocks = append(blocks, b)
		}
	}
	return blocks
}

// HashesFromBlocks returns the hashes of indexes from the blocks read (by
// number), in order, or a *domain.ValidationError naming the first index
// not stored.
func HashesFromBlocks(indexes []int64, blocks map[int64][]byte) ([]domain.Hash, error) {
	out := make([]domain.Hash, len(indexes))
	for i, x := range indexes {
		b, ok := blocks[x/MerkleBlockHashes]
		at := int(x%MerkleBlockHashes) * domain.HashSize
		if x < 0 || !ok || at+domain.HashSize > len(b) {
			return nil, &domain.ValidationError{Field: "indexes", Reason: fmt.Sprintf("hash %d is not stored: the tree is smaller", x)}
		}
		copy(out[i][:], b[at:])
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

// ValidateMerkleCosignature checks a cosignature before
// MerkleCosignaturePut stores it.
func ValidateMerkleCosignature(size int64, witness string, line []byte) error {
	switch {
	case size < 0:
		return &domain.ValidationError{Field: "size", Reason: "must not be negative"}
	case witness == "" || len(witness) > eventstore.MaxWitnessKeyLen:
		return &domain.ValidationError{Field: "witness", Reason: fmt.Sprintf("must be a witness verifier key of 1 to %d bytes", eventstore.MaxWitnessKeyLen)}
	case len(line) < 2 || len(line) > eventstore.MaxCosignatureLen || line[len(line)-1] != '\n' || bytes.IndexByte(line, '\n') != len(line)-1 || !utf8.Valid(line):
		return &domain.ValidationError{Field: "line", Reason: fmt.Sprintf("must be one note signature line ending in a newline, at most %d bytes of UTF-8", eventstore.MaxCosignatureLen)}
	}
	return nil
}

// MerkleLeaves returns the leaves of n events read from feed position
// from on: entry(i, &e) fills e with the hashed entry's fields of the i-th
// and its Position, which must be from+i (the feed is dense).
func MerkleLeaves(from int64, n int, entry func(i int, e *domain.Event) error) ([]domain.Hash, error) {
	leaves := make([]domain.Hash, n)
	var e domain.Event
	for i := range leaves {
		if err := entry(i, &e); err != nil {
			return nil, err
		}
		if want := from + int64(i); e.Position != want {
			return nil, fmt.Errorf("the feed at position %d holds an event at position %d: the feed is not dense", want, e.Position)
		}
		leaves[i] = integrity.LeafHash(&e)
	}
	return leaves, nil
}
