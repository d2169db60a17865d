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
				sleep(ctx, l.cfg.GrowInterval)
			}
		default:
			if err := l.cfg.Store.WaitFeed(ctx, b.size); err != nil {
				return err
			}
		}
	}
}

// builder grows the tree batch by batch. It keeps the hashes that the next
// leaves need (the roots of the complete subtrees on the tree's right edge,
// at most log2(size) of them) so that a grow reads the store only for
// those it does not know yet.
type builder struct {
	log  *Log
	size int64
	// known holds stored hashes by storage index: the ones this builder
	// wrote or read, trimmed to the right edge after each grow.
	known map[int64]tlog.Hash
}

// grow adds the leaves of the next events of the feed, up to a batch, and
// returns how many.
func (b *builder) grow(ctx context.Context) (int, error) {
	events, err := b.log.cfg.Store.ReadFeed(ctx, b.size, b.log.cfg.Batch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	leaves := make([]domain.Hash, len(events))
	for i := range events {
		if n := b.size + int64(i); events[i].Position != n {
			return 0, fmt.Errorf("the feed at position %d holds an event at position %d: the feed is not dense", n, events[i].Position)
		}
		leaves[i] = integrity.LeafHash(&events[i])
	}
	if err := b.addLeaves(ctx, leaves); err != nil {
		return 0, err
	}
	return len(events), nil
}

// addLeaves grows the stored tree by leaves, in one transaction.
func (b *builder) addLeaves(ctx context.Context, leaves []domain.Hash) error {
	if b.known == nil {
		b.known = make(map[int64]tlog.Hash)
	}
	var added []domain.Hash
	for i, leaf := range leaves {
		n := b.size + int64(i)
		hs, err := tlog.StoredHashesForRecordHash(n, tlog.Hash(leaf), b.reader(ctx))
		if err != nil {
			return fmt.Errorf("hash leaf %d: %w", n, err)
		}
		first := tlog.StoredHashIndex(0, n)
		for j, h := range hs {
			b.known[first+int64(j)] = h
			added = append(added, domain.Hash(h))
		}
	}
	newSize := b.size + int64(len(leaves))
	if err := b.log.cfg.Store.MerkleTreeGrow(ctx, b.size, newSize, added); err != nil {
		b.known = nil
		return err
	}
	b.size = newSize
	b.trim()
	return nil
}

// reader reads hashes from known, and the others from the store.
func (b *builder) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int64
		for _, x := range indexes {
			if _, ok := b.known[x]; !ok {
				missing = append(missing, x)
			}
		}
		if len(missing) > 0 {
			hs, err := b.log.cfg.Store.MerkleHashesRead(ctx, missing)
			if err != nil {
				return nil, err
			}
			for i, x := range missing {
				b.known[x] = tlog.Hash(hs[i])
			}
		}
		for i, x := range indexes {
			out[i] = b.known[x]
		}
		return out, nil
	})
}

// trim keeps only the hashes of the complete subtrees on the right edge of
// the tree of b.size leaves: all that later leaves read.
func (b *builder) trim() {
	edge := make(map[int64]tlog.Hash)
	for level, n := 0, b.size; n > 0; level, n = level+1, n>>1 {
		if n&1 == 1 {
			x := tlog.StoredHashIndex(level, n-1)
			if h, ok := b.known[x]; ok {
				edge[x] = h
			}
		}
	}
	b.known = edge
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
