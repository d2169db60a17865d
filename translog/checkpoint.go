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

// ForkError reports that a checkpoint of the same size with another root
// is stored already: signing this one would show two views of the log. It
// never happens unless the store lost or altered the tree's hashes; the log
// refuses to sign and an operator must find out why.
type ForkError struct {
	Size         int64
	Stored, Mine domain.Hash
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("transparency log: a checkpoint of size %d with root %x is stored, and the tree now gives root %x: refusing to sign a second root for one size (the tree's hashes were lost or altered)",
		e.Size, e.Stored, e.Mine)
}

// checkpointEvery signs a checkpoint every CheckpointInterval while the
// tree has grown past the latest one, and submits the latest to the
// witnesses that have not cosigned it, until ctx ends.
func (l *Log) checkpointEvery(ctx context.Context) {
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "transparency log: sign a checkpoint", Logger: l.cfg.Logger}
	ticker := time.NewTicker(l.cfg.CheckpointInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		cp, err := l.CheckpointNow(ctx)
		var fork *ForkError
		switch {
		case errors.As(err, &fork):
			l.cfg.Logger.ErrorContext(ctx, fork.Error())
			continue
		case err != nil && ctx.Err() == nil:
			retry.Note(ctx, err)
			continue
		case err != nil:
			return
		}
		retry.Succeeded()
		l.cosign(ctx, cp)
	}
}

// CheckpointNow returns the latest checkpoint after signing one of the
// tree's current size, if it has grown past the latest (or no checkpoint
// exists yet). Any process with the log's key may call it: the store keeps
// the first checkpoint of each size, and the tree's root for a size never
// changes, so concurrent calls agree. A *ForkError means the store holds
// another root for the size; nothing is signed then.
func (l *Log) CheckpointNow(ctx context.Context) (eventstore.MerkleCheckpoint, error) {
	latest, found, err := l.cfg.Store.MerkleCheckpointLatest(ctx)
	if err != nil {
		return latest, err
	}
	size, err := l.cfg.Store.MerkleTreeSize(ctx)
	switch {
	case err != nil:
		return latest, err
	case found && latest.Size > size:
		return latest, fmt.Errorf("transparency log: a checkpoint of size %d is stored but the tree has %d leaves: the tree's hashes were lost", latest.Size, size)
	case found && latest.Size == size:
		return latest, l.checkRoot(ctx, latest)
	}
	return l.sign(ctx, size)
}

// checkRoot checks that the stored tree gives cp's root.
func (l *Log) checkRoot(ctx context.Context, cp eventstore.MerkleCheckpoint) error {
	root, err := tlog.TreeHash(cp.Size, l.hashReader(ctx))
	if err != nil {
		return fmt.Errorf("hash the tree of size %d: %w", cp.Size, err)
	}
	if domain.Hash(root) != cp.Root {
		return &ForkError{Size: cp.Size, Stored: cp.Root, Mine: domain.Hash(root)}
	}
	return nil
}

// sign signs and stores the checkpoint of the tree's first size leaves.
// It checks the store before signing and after storing: one size, one root.
func (l *Log) sign(ctx context.Context, size int64) (eventstore.MerkleCheckpoint, error) {
	root, err := tlog.TreeHash(size, l.hashReader(ctx))
	if err != nil {
		return eventstore.MerkleCheckpoint{}, fmt.Errorf("hash the tree of size %d: %w", size, err)
	}
	mine := domain.Hash(root)
	if stored, found, err := l.cfg.Store.MerkleCheckpointGet(ctx, size); err != nil || found {
		if err == nil && stored.Root != mine {
			err = &ForkError{Size: size, Stored: stored.Root, Mine: mine}
		}
		return stored, err
	}
	msg, err := integrity.SignCheckpoint(integrity.Checkpoint{Origin: l.origin, Size: size, Root: mine}, l.cfg.Signer)
	if err != nil {
		return eventstore.MerkleCheckpoint{}, err
	}
	stored, err := l.cfg.Store.MerkleCheckpointPut(ctx, eventstore.MerkleCheckpoint{Size: size, Root: mine, Note: msg})
	if err == nil && stored.Root != mine {
		err = &ForkError{Size: size, Stored: stored.Root, Mine: mine}
	}
	return stored, err
}

// Latest returns the latest signed checkpoint, signing the first one if
// none exists yet.
func (l *Log) Latest(ctx context.Context) (eventstore.MerkleCheckpoint, error) {
	cp, found, err := l.cfg.Store.MerkleCheckpointLatest(ctx)
	if err != nil || found {
		return cp, err
	}
	return l.CheckpointNow(ctx)
}

// Covering returns a signed checkpoint whose tree holds leaf index: the
// latest if it does, else one signed now, after waiting (as long as ctx
// allows) for the tree to grow over the leaf.
func (l *Log) Covering(ctx context.Context, index int64) (eventstore.MerkleCheckpoint, error) {
	cp, found, err := l.cfg.Store.MerkleCheckpointLatest(ctx)
	if err != nil || (found && cp.Size > index) {
		return cp, err
	}
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		size, err := l.cfg.Store.MerkleTreeSize(ctx)
		if err != nil {
			return cp, err
		}
		if size > index {
			return l.CheckpointNow(ctx)
		}
		select {
		case <-ctx.Done():
			return cp, fmt.Errorf("wait for the tree to hold leaf %d (it has %d): %w", index, size, ctx.Err())
		case <-time.After(wait):
		}
	}
}
