package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// merkleHashes returns the stored hashes that leaves from … to-1 add to a
// tree whose earlier hashes are in stored (which it extends), with leaf n
// the SHA-256 of n's decimal text.
func merkleHashes(t *testing.T, stored *[]tlog.Hash, from, to int64) []domain.Hash {
	t.Helper()
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = (*stored)[x]
		}
		return out, nil
	})
	var added []domain.Hash
	for n := from; n < to; n++ {
		hs, err := tlog.StoredHashes(n, []byte{byte(n), byte(n >> 8)}, r)
		if err != nil {
			t.Fatal(err)
		}
		*stored = append(*stored, hs...)
		for _, h := range hs {
			added = append(added, domain.Hash(h))
		}
	}
	return added
}

// treeSize reads the tree's size and fails the test on an error.
func treeSize(t *testing.T, s eventstore.MerkleStore) int64 {
	t.Helper()
	n, err := s.MerkleTreeSize(t.Context())
	if err != nil {
		t.Fatalf("MerkleTreeSize: %v", err)
	}
	return n
}

// testMerkleTreeGrow: a tree grows by whole batches of leaves whose hashes
// read back at their storage indexes; a grow from a stale size or with the
// wrong number of hashes stores nothing; the tree is not events.
func testMerkleTreeGrow(t *testing.T, newStore Opener[MerkleStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	if n := treeSize(t, s); n != 0 {
		t.Fatalf("a new store's tree has %d leaves", n)
	}
	var stored []tlog.Hash
	if err := s.MerkleTreeGrow(ctx, 0, 5, merkleHashes(t, &stored, 0, 5)); err != nil {
		t.Fatalf("MerkleTreeGrow(0, 5): %v", err)
	}
	more := merkleHashes(t, &stored, 5, 8)
	if err := s.MerkleTreeGrow(ctx, 5, 8, more); err != nil {
		t.Fatalf("MerkleTreeGrow(5, 8): %v", err)
	}
	if n := treeSize(t, s); n != 8 {
		t.Fatalf("tree size %d, want 8", n)
	}
	indexes := []int64{int64(len(stored) - 1), 0, 3, 3}
	got, err := s.MerkleHashesRead(ctx, indexes)
	if err != nil {
		t.Fatalf("MerkleHashesRead: %v", err)
	}
	for i, x := range indexes {
		if got[i] != domain.Hash(stored[x]) {
			t.Errorf("hash %d reads %x, want %x", x, got[i], stored[x])
		}
	}
	root, err := tlog.TreeHash(8, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := s.MerkleHashesRead(ctx, idx)
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, err
	}))
	if err != nil || root == (tlog.Hash{}) {
		t.Fatalf("TreeHash over the store: %v", err)
	}
	_, err = s.MerkleHashesRead(ctx, []int64{int64(len(stored))})
	checkValidation(t, err, "indexes")

	// A stale size: nothing is stored.
	err = s.MerkleTreeGrow(ctx, 5, 8, more)
	if !errors.Is(err, eventstore.ErrMerkleTreeMoved) {
		t.Fatalf("a grow from a stale size: %v, want ErrMerkleTreeMoved", err)
	}
	checkValidation(t, s.MerkleTreeGrow(ctx, 8, 9, nil), "hashes")
	checkValidation(t, s.MerkleTreeGrow(ctx, 8, 8, nil), "new_size")
	checkValidation(t, s.MerkleTreeGrow(ctx, -1, 1, nil), "new_size")
	if n := treeSize(t, s); n != 8 {
		t.Fatalf("tree size %d after refused grows, want 8", n)
	}
	expectFeedLen(t, s, 0)
}

// testMerkleTreeGrowConcurrent: of concurrent grows from one size, exactly
// one wins and the others store nothing.
func testMerkleTreeGrowConcurrent(t *testing.T, newStore Opener[MerkleStore]) {
	s := newStore(t, eventstore.Options{})
	var stored []tlog.Hash
	hashes := merkleHashes(t, &stored, 0, 100)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s.MerkleTreeGrow(t.Context(), 0, 100, hashes) })
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, eventstore.ErrMerkleTreeMoved):
			t.Errorf("a losing grow: %v, want ErrMerkleTreeMoved", err)
		}
	}
	if won != 1 || treeSize(t, s) != 100 {
		t.Fatalf("%d grows won, tree size %d; want exactly one, size 100", won, treeSize(t, s))
	}
}

// testMerkleCheckpoints: the first checkpoint of a size is kept forever; the
// latest is the largest.
func testMerkleCheckpoints(t *testing.T, newStore Opener[MerkleStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	if _, found, err := s.MerkleCheckpointLatest(ctx); err != nil || found {
		t.Fatalf("a new store's latest checkpoint: found %v, %v", found, err)
	}
	put := func(size int64, root string) eventstore.MerkleCheckpoint {
		t.Helper()
		cp, err := s.MerkleCheckpointPut(ctx, eventstore.MerkleCheckpoint{Size: size, Root: sha256.Sum256([]byte(root)), Note: []byte("note " + root)})
		if err != nil {
			t.Fatalf("MerkleCheckpointPut(%d): %v", size, err)
		}
		return cp
	}
	first := put(5, "a")
	if first.Root != sha256.Sum256([]byte("a")) || string(first.Note) != "note a" || first.CreatedAt.IsZero() {
		t.Fatalf("stored %+v", first)
	}
	if again := put(5, "b"); again.Root != first.Root || string(again.Note) != "note a" || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("a second checkpoint of size 5 gave %+v, want the first kept", again)
	}
	put(9, "c")
	put(7, "d")
	latest, found, err := s.MerkleCheckpointLatest(ctx)
	if err != nil || !found || latest.Size != 9 || string(latest.Note) != "note c" {
		t.Fatalf("latest %+v, %v, %v; want size 9", latest, found, err)
	}
	got, found, err := s.MerkleCheckpointGet(ctx, 5)
	if err != nil || !found || string(got.Note) != "note a" {
		t.Fatalf("checkpoint 5: %+v, %v, %v", got, found, err)
	}
	if _, found, err := s.MerkleCheckpointGet(ctx, 6); err != nil || found {
		t.Fatalf("checkpoint 6: found %v, %v", found, err)
	}
	_, err = s.MerkleCheckpointPut(ctx, eventstore.MerkleCheckpoint{Size: -1, Note: []byte("x")})
	checkValidation(t, err, "size")
	_, err = s.MerkleCheckpointPut(ctx, eventstore.MerkleCheckpoint{Size: 1})
	checkValidation(t, err, "note")
}

// testMerkleCosignatures: a witness's first cosignature of a checkpoint is
// kept and served with it, in witness order; the largest size each witness
// cosigned is known.
func testMerkleCosignatures(t *testing.T, newStore Opener[MerkleStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	for _, size := range []int64{3, 8} {
		if _, err := s.MerkleCheckpointPut(ctx, eventstore.MerkleCheckpoint{Size: size, Note: fmt.Appendf(nil, "note %d\n", size)}); err != nil {
			t.Fatal(err)
		}
	}
	const wa, wb = "witness.example/a+01234567+BA", "witness.example/b+89abcdef+BA"
	if _, found, err := s.MerkleCosignedSize(ctx, wa); err != nil || found {
		t.Fatalf("a witness that cosigned nothing: found %v, %v", found, err)
	}
	for _, c := range []struct {
		size    int64
		witness string
		line    string
	}{{3, wa, "— a 3\n"}, {8, wb, "— b 8\n"}, {8, wa, "— a 8\n"}, {8, wa, "— a again\n"}} {
		if err := s.MerkleCosignaturePut(ctx, c.size, c.witness, []byte(c.line)); err != nil {
			t.Fatalf("MerkleCosignaturePut(%d, %s): %v", c.size, c.witness, err)
		}
	}
	latest, _, err := s.MerkleCheckpointLatest(ctx)
	if err != nil || string(latest.Cosignatures) != "— a 8\n— b 8\n" || string(latest.Signed()) != "note 8\n— a 8\n— b 8\n" {
		t.Fatalf("latest checkpoint %q with %q, %v; want the first line of each witness, in witness order", latest.Note, latest.Cosignatures, err)
	}
	if cp, _, err := s.MerkleCheckpointGet(ctx, 3); err != nil || string(cp.Cosignatures) != "— a 3\n" {
		t.Fatalf("checkpoint 3's cosignatures %q, %v", cp.Cosignatures, err)
	}
	if size, found, err := s.MerkleCosignedSize(ctx, wa); err != nil || !found || size != 8 {
		t.Fatalf("witness a cosigned up to %d (found %v, %v); want 8", size, found, err)
	}
	checkValidation(t, s.MerkleCosignaturePut(ctx, 5, wa, []byte("— a 5\n")), "size")
	checkValidation(t, s.MerkleCosignaturePut(ctx, 8, "", []byte("— x\n")), "witness")
	for _, bad := range []string{"", "— no newline", "— two\nlines\n", strings.Repeat("x", eventstore.MaxCosignatureLen) + "\n", "\xff\n"} {
		checkValidation(t, s.MerkleCosignaturePut(ctx, 8, wb, []byte(bad)), "line")
	}
}

// testMerkleClosed: every method fails with ErrClosed after Close.
func testMerkleClosed(t *testing.T, newStore Opener[MerkleStore]) {
	s := newStore(t, eventstore.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, err1 := s.MerkleTreeSize(ctx)
	_, err2 := s.MerkleHashesRead(ctx, []int64{0})
	err3 := s.MerkleTreeGrow(ctx, 0, 1, make([]domain.Hash, 1))
	_, err4 := s.MerkleCheckpointPut(ctx, eventstore.MerkleCheckpoint{Note: []byte("x")})
	_, _, err5 := s.MerkleCheckpointLatest(ctx)
	_, _, err6 := s.MerkleCheckpointGet(ctx, 0)
	err7 := s.MerkleCosignaturePut(ctx, 0, "w", []byte("— w\n"))
	_, _, err8 := s.MerkleCosignedSize(ctx, "w")
	_, err9 := s.MerkleLeavesRead(ctx, 0, 1)
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8, err9} {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("call %d after Close: %v, want ErrClosed", i+1, err)
		}
	}
}

// testMerkleTreeGrowInBatches: grows of every size, across the store's
// internal blocks of hashes, read back exactly.
func testMerkleTreeGrowInBatches(t *testing.T, newStore Opener[MerkleStore]) {
	s := newStore(t, eventstore.Options{})
	var stored []tlog.Hash
	size := int64(0)
	for _, to := range []int64{1, 2, 130, 131, 255, 400, 401, 1000} {
		if err := s.MerkleTreeGrow(t.Context(), size, to, merkleHashes(t, &stored, size, to)); err != nil {
			t.Fatalf("MerkleTreeGrow(%d, %d): %v", size, to, err)
		}
		size = to
	}
	all := make([]int64, len(stored))
	for i := range all {
		all[i] = int64(len(all) - 1 - i) // backwards: order is the caller's
	}
	got, err := s.MerkleHashesRead(t.Context(), all)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range all {
		if got[i] != domain.Hash(stored[x]) {
			t.Fatalf("hash %d reads %x, want %x", x, got[i], stored[x])
		}
	}
}

// testMerkleLeavesRead: the leaves read from the feed are
// integrity.LeafHash of the events ReadFeed returns, page by page with
// ReadFeed's paging and clamping, from the database and from the feed
// cache alike; a negative position is refused.
func testMerkleLeavesRead(t *testing.T, newStore Opener[MerkleStore]) {
	forFeedCache(t, func(t *testing.T, cache int) {
		s := newStore(t, eventstore.Options{MaxReadLimit: 4, FeedCacheEvents: cache})
		all := appendPagedFeed(t, s)
		for _, tc := range pagingCases(0) {
			got, err := s.MerkleLeavesRead(t.Context(), tc.from, tc.limit)
			if err != nil {
				t.Fatalf("MerkleLeavesRead(from %d, limit %d): %v", tc.from, tc.limit, err)
			}
			var want []domain.Hash
			for _, pos := range tc.want {
				want = append(want, integrity.LeafHash(&all[pos]))
			}
			if !slices.Equal(got, want) {
				t.Errorf("MerkleLeavesRead(from %d, limit %d) = %d leaves, want the leaves of positions %v", tc.from, tc.limit, len(got), tc.want)
			}
		}
		if got, err := s.MerkleLeavesRead(t.Context(), math.MaxInt64-1, 10); err != nil || len(got) != 0 {
			t.Errorf("MerkleLeavesRead far past the feed = %d leaves, %v; want none", len(got), err)
		}
		_, err := s.MerkleLeavesRead(t.Context(), -1, 1)
		checkValidation(t, err, "from")
	})
}
