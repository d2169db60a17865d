package translog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/backoff"
)

// Run grows the tree as the feed grows and signs a checkpoint every
// CheckpointInterval while it grows, until ctx ends; it returns ctx's error.
// It follows the feed from the store, never the append path, so appends do
// not wait for it. Run one per database (elect it: several would only race,
// safely, since a grow is compare-and-set). Failures are retried with
// backoff and logged once per outage.
func (l *Log) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.checkpointEvery(ctx)
	}()
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "transparency log: grow the tree", Logger: l.cfg.Logger, Max: 5 * time.Second}
	for ctx.Err() == nil {
		if err := l.follow(ctx, retry); err != nil && ctx.Err() == nil {
			_ = retry.Failed(ctx, err)
			continue
		}
	}
	<-done
	return ctx.Err()
}

// follow grows the tree from its stored size for as long as it can.
// Each grow that succeeds ends an outage that retry logged.
func (l *Log) follow(ctx context.Context, retry *backoff.Retry) error {
	size, err := l.cfg.Store.MerkleTreeSize(ctx)
	if err != nil {
		return err
	}
	b := builder{log: l, size: size}
	for {
		grown, err := b.grow(ctx)
		switch {
		case errors.Is(err, eventstore.ErrMerkleTreeMoved):
			return nil // another builder grew it: start again from its size
		case err != nil:
			return err
		case grown > 0:
			retry.Succeeded()
			if grown < l.cfg.Batch {
				// Caught up: let the feed gather a larger batch, so that a
				// busy store pays for few, large grows.
				_ = backoff.Sleep(ctx, l.cfg.GrowInterval) // ctx's end shows at the next read
			}
		default:
			if err := l.cfg.Store.WaitFeed(ctx, b.size); err != nil {
				return err
			}
		}
	}
}

// builder grows the tree batch by batch. It keeps the tree's right edge:
// the roots of the complete subtrees that the next leaves will complete
// (edge[l] is the root of 2^l leaves, present when bit l of size is set),
// at most log2(size) hashes, read from the store once.
type builder struct {
	log  *Log
	size int64
	edge []domain.Hash
	// loaded says edge holds the right edge of the tree of size leaves.
	loaded bool
}

// grow adds the leaves of the next events of the feed, up to a batch, and
// returns how many.
func (b *builder) grow(ctx context.Context) (int, error) {
	leaves, err := b.log.cfg.Store.MerkleLeavesRead(ctx, b.size, b.log.cfg.Batch)
	if err != nil || len(leaves) == 0 {
		return 0, err
	}
	if err := b.addLeaves(ctx, leaves); err != nil {
		return 0, err
	}
	return len(leaves), nil
}

// addLeaves grows the stored tree by leaves, in one transaction.
func (b *builder) addLeaves(ctx context.Context, leaves []domain.Hash) error {
	if !b.loaded {
		if err := b.loadEdge(ctx); err != nil {
			return err
		}
	}
	added, edge := AppendLeaves(b.edge, b.size, leaves)
	newSize := b.size + int64(len(leaves))
	if err := b.log.cfg.Store.MerkleTreeGrow(ctx, b.size, newSize, added); err != nil {
		b.loaded = false
		return err
	}
	b.size, b.edge = newSize, edge
	return nil
}

// AppendLeaves returns the hashes that leaves add to a tree of size leaves
// whose right edge is edge — edge[l] the root of the complete subtree of
// 2^l leaves that the next leaves will complete, present when bit l of size
// is set — and the right edge of the grown tree. The hashes are those of
// golang.org/x/mod/sumdb/tlog's StoredHashes, in its order, each leaf then
// the roots of the subtrees it completes, from the lowest: what
// eventstore.MerkleStore.MerkleTreeGrow stores. edge is not modified; a
// new tree has a nil edge.
func AppendLeaves(edge []domain.Hash, size int64, leaves []domain.Hash) (added, newEdge []domain.Hash) {
	newEdge = append([]domain.Hash(nil), edge...)
	added = make([]domain.Hash, 0, 2*len(leaves)+64)
	for i, leaf := range leaves {
		n := size + int64(i)
		h := leaf
		added = append(added, h)
		level := 0
		for ; n>>level&1 == 1; level++ {
			h = integrity.NodeHash(newEdge[level], h)
			added = append(added, h)
		}
		if level == len(newEdge) {
			newEdge = append(newEdge, h)
		} else {
			newEdge[level] = h
		}
	}
	return added, newEdge
}

// loadEdge reads the right edge of the stored tree of b.size leaves.
func (b *builder) loadEdge(ctx context.Context) error {
	var levels []int
	var indexes []int64
	for level := 0; b.size>>level > 0; level++ {
		if b.size>>level&1 == 1 {
			levels = append(levels, level)
			indexes = append(indexes, tlog.StoredHashIndex(level, b.size>>level-1))
		}
	}
	b.edge = nil
	if len(levels) > 0 {
		b.edge = make([]domain.Hash, levels[len(levels)-1]+1)
		hs, err := b.log.cfg.Store.MerkleHashesRead(ctx, indexes)
		if err != nil {
			return fmt.Errorf("read the tree's right edge: %w", err)
		}
		for i, level := range levels {
			b.edge[level] = hs[i]
		}
	}
	b.loaded = true
	return nil
}
