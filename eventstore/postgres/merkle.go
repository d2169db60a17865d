package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.MerkleStore = (*Store)(nil)

// MerkleLeavesRead implements eventstore.MerkleStore: the leaves of what
// the process's feed cache holds from from on, then ReadFeed's query with
// only the entry's columns for the rest.
func (s *Store) MerkleLeavesRead(ctx context.Context, from int64, limit int) ([]domain.Hash, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	n, err := engine.FeedReadLimit(s.cfg.Options, from, limit)
	if n == 0 || err != nil {
		return nil, err
	}
	return s.feedCache.LeavesThrough(from, n, func(from int64, n int) ([]domain.Hash, error) {
		rows, err := s.q.FeedEntriesRead(ctx, s.pool, dbsqlc.FeedEntriesReadParams{FromPosition: from, MaxEvents: int32(n)})
		if err != nil {
			return nil, fmt.Errorf("read the feed's leaves from %d: %w", from, err)
		}
		return engine.MerkleLeaves(from, len(rows), func(i int, e *domain.Event) error {
			r := &rows[i]
			*e = domain.Event{Position: r.Position, EventID: r.EventID, StreamID: r.StreamID, Seq: r.Seq, Type: domain.EventType(r.Type), OccurredAt: r.OccurredAt.UTC()}
			copy(e.PayloadDigest[:], r.PayloadDigest)
			copy(e.HashPrev[:], r.HashPrev)
			return nil
		})
	})
}

// MerkleTreeSize implements eventstore.MerkleStore.
func (s *Store) MerkleTreeSize(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	n, err := s.q.MerkleTreeSize(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("read the Merkle tree size: %w", err)
	}
	return n, nil
}

// MerkleHashesRead implements eventstore.MerkleStore: one query that
// reads the blocks holding the indexes by primary key.
func (s *Store) MerkleHashesRead(ctx context.Context, indexes []int64) ([]domain.Hash, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.MerkleBlocksRead(ctx, s.pool, engine.MerkleBlocksOf(indexes))
	if err != nil {
		return nil, fmt.Errorf("read %d Merkle hashes: %w", len(indexes), err)
	}
	blocks := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		blocks[r.Block] = r.Hashes
	}
	return engine.HashesFromBlocks(indexes, blocks)
}

// MerkleTreeGrow implements eventstore.MerkleStore, in one transaction: the
// size's compare-and-set, the end of the last block and the new blocks.
func (s *Store) MerkleTreeGrow(ctx context.Context, oldSize, newSize int64, hashes []domain.Hash) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	first, err := engine.ValidateMerkleTreeGrow(oldSize, newSize, hashes)
	if err != nil {
		return fmt.Errorf("grow the Merkle tree: %w", err)
	}
	extend, extendFrom, fresh := engine.SplitMerkleBlocks(first, hashes)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		moved, err := s.q.MerkleTreeMove(ctx, tx, dbsqlc.MerkleTreeMoveParams{OldSize: oldSize, NewSize: newSize})
		if err != nil {
			return err
		}
		if moved == 0 {
			return eventstore.ErrMerkleTreeMoved
		}
		if extend != nil {
			n, err := s.q.MerkleBlockExtend(ctx, tx, dbsqlc.MerkleBlockExtendParams{Block: extend.Block, Length: int32(extendFrom), Hashes: extend.Hashes})
			if err == nil && n == 0 {
				err = fmt.Errorf("block %d does not end where the tree of %d leaves does: the stored tree is damaged", extend.Block, oldSize)
			}
			if err != nil {
				return err
			}
		}
		arg := dbsqlc.MerkleBlocksInsertParams{}
		for _, b := range fresh {
			arg.Blocks, arg.Hashes = append(arg.Blocks, b.Block), append(arg.Hashes, b.Hashes)
		}
		return s.q.MerkleBlocksInsert(ctx, tx, arg)
	})
	if err != nil {
		return fmt.Errorf("grow the Merkle tree from %d to %d leaves: %w", oldSize, newSize, err)
	}
	return nil
}

// MerkleCheckpointPut implements eventstore.MerkleStore: an insert that
// keeps the first checkpoint of a size, then a read of the one kept (in a
// statement of its own, whose snapshot sees a concurrent winner).
func (s *Store) MerkleCheckpointPut(ctx context.Context, cp eventstore.MerkleCheckpoint) (eventstore.MerkleCheckpoint, error) {
	if s.closed.Load() {
		return cp, eventstore.ErrClosed
	}
	cp, err := engine.ValidateMerkleCheckpoint(cp, time.Now())
	if err != nil {
		return cp, fmt.Errorf("put checkpoint: %w", err)
	}
	if err := s.q.MerkleCheckpointInsert(ctx, s.pool, dbsqlc.MerkleCheckpointInsertParams{
		Size: cp.Size, Root: cp.Root[:], Note: cp.Note, CreatedAt: cp.CreatedAt,
	}); err != nil {
		return cp, fmt.Errorf("put checkpoint of size %d: %w", cp.Size, err)
	}
	stored, found, err := s.MerkleCheckpointGet(ctx, cp.Size)
	if err == nil && !found {
		err = errors.New("the checkpoint stored is not there")
	}
	return stored, err
}

// MerkleCheckpointLatest implements eventstore.MerkleStore.
func (s *Store) MerkleCheckpointLatest(ctx context.Context) (eventstore.MerkleCheckpoint, bool, error) {
	if s.closed.Load() {
		return eventstore.MerkleCheckpoint{}, false, eventstore.ErrClosed
	}
	return s.cosigned(ctx)(checkpointOf(s.q.MerkleCheckpointLatest(ctx, s.pool)))
}

// MerkleCheckpointGet implements eventstore.MerkleStore.
func (s *Store) MerkleCheckpointGet(ctx context.Context, size int64) (eventstore.MerkleCheckpoint, bool, error) {
	if s.closed.Load() {
		return eventstore.MerkleCheckpoint{}, false, eventstore.ErrClosed
	}
	return s.cosigned(ctx)(checkpointOf(s.q.MerkleCheckpointGet(ctx, s.pool, size)))
}

// cosigned returns a function that adds a checkpoint's cosignatures to it.
func (s *Store) cosigned(ctx context.Context) func(eventstore.MerkleCheckpoint, bool, error) (eventstore.MerkleCheckpoint, bool, error) {
	return func(cp eventstore.MerkleCheckpoint, found bool, err error) (eventstore.MerkleCheckpoint, bool, error) {
		if err != nil || !found {
			return cp, found, err
		}
		lines, err := s.q.MerkleCosignaturesOf(ctx, s.pool, cp.Size)
		if err != nil {
			return cp, false, fmt.Errorf("read the cosignatures of checkpoint %d: %w", cp.Size, err)
		}
		cp.Cosignatures = []byte(strings.Join(lines, ""))
		return cp, true, nil
	}
}

// MerkleCosignaturePut implements eventstore.MerkleStore.
func (s *Store) MerkleCosignaturePut(ctx context.Context, size int64, witness string, line []byte) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := engine.ValidateMerkleCosignature(size, witness, line); err != nil {
		return fmt.Errorf("put cosignature: %w", err)
	}
	if _, found, err := checkpointOf(s.q.MerkleCheckpointGet(ctx, s.pool, size)); err != nil || !found {
		if err == nil {
			err = &domain.ValidationError{Field: "size", Reason: fmt.Sprintf("%d has no checkpoint to cosign", size)}
		}
		return fmt.Errorf("put cosignature: %w", err)
	}
	if err := s.q.MerkleCosignatureInsert(ctx, s.pool, dbsqlc.MerkleCosignatureInsertParams{
		Size: size, Witness: witness, Line: string(line), CreatedAt: time.Now().UTC(),
	}); err != nil {
		return fmt.Errorf("put the cosignature of checkpoint %d: %w", size, err)
	}
	return nil
}

// MerkleCosignedSize implements eventstore.MerkleStore.
func (s *Store) MerkleCosignedSize(ctx context.Context, witness string) (int64, bool, error) {
	if s.closed.Load() {
		return 0, false, eventstore.ErrClosed
	}
	size, err := s.q.MerkleCosignedSize(ctx, s.pool, witness)
	if err != nil {
		return 0, false, fmt.Errorf("read the size a witness cosigned: %w", err)
	}
	return size, size >= 0, nil
}

// checkpointOf converts a checkpoint row.
func checkpointOf(r dbsqlc.MerkleCheckpoint, err error) (eventstore.MerkleCheckpoint, bool, error) {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return eventstore.MerkleCheckpoint{}, false, nil
	case err != nil:
		return eventstore.MerkleCheckpoint{}, false, fmt.Errorf("read checkpoint: %w", err)
	}
	root, err := hashOf(r.Root)
	if err != nil {
		return eventstore.MerkleCheckpoint{}, false, fmt.Errorf("read checkpoint of size %d: %w", r.Size, err)
	}
	return eventstore.MerkleCheckpoint{Size: r.Size, Root: root, Note: r.Note, CreatedAt: r.CreatedAt.UTC()}, true, nil
}

// hashOf converts a bytea hash (the schema checks its length).
func hashOf(b []byte) (domain.Hash, error) {
	var h domain.Hash
	if len(b) != domain.HashSize {
		return h, fmt.Errorf("want a %d-byte hash, got %d bytes", domain.HashSize, len(b))
	}
	copy(h[:], b)
	return h, nil
}
