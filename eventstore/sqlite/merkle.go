package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

var _ eventstore.MerkleStore = (*Store)(nil)

// MerkleLeavesRead implements eventstore.MerkleStore: the leaves of what
// the process's feed cache holds from from on, then ReadFeed's query with
// only the entry's columns, on the read-only pool, for the rest.
func (s *Store) MerkleLeavesRead(ctx context.Context, from int64, limit int) ([]domain.Hash, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read the feed's leaves: %w", eventstore.ErrClosed)
	}
	n, err := engine.FeedReadLimit(s.opts, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read the feed's leaves: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	return s.feedCache.LeavesThrough(from, n, func(from int64, n int) ([]domain.Hash, error) {
		rows, err := s.q.FeedEntriesRead(ctx, s.rdb, dbsqlc.FeedEntriesReadParams{FromPosition: from, MaxEvents: int64(n)})
		if err != nil {
			return nil, fmt.Errorf("read the feed's leaves from %d: %w", from, s.closedOr(err))
		}
		return engine.MerkleLeaves(from, len(rows), func(i int, e *domain.Event) error { return entryOf(&rows[i], e) })
	})
}

// MerkleTreeSize implements eventstore.MerkleStore, on the read-only pool.
func (s *Store) MerkleTreeSize(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("read the Merkle tree size: %w", eventstore.ErrClosed)
	}
	n, err := s.q.MerkleTreeSize(ctx, s.rdb)
	if err != nil {
		return 0, fmt.Errorf("read the Merkle tree size: %w", s.closedOr(err))
	}
	return n, nil
}

// MerkleHashesRead implements eventstore.MerkleStore: one query on the
// read-only pool, which never waits for the writer, that reads the blocks
// holding the indexes by primary key.
func (s *Store) MerkleHashesRead(ctx context.Context, indexes []int64) ([]domain.Hash, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read Merkle hashes: %w", eventstore.ErrClosed)
	}
	arg, err := json.Marshal(engine.MerkleBlocksOf(indexes))
	if err != nil {
		return nil, fmt.Errorf("read Merkle hashes: %w", err)
	}
	rows, err := s.q.MerkleBlocksRead(ctx, s.rdb, string(arg))
	if err != nil {
		return nil, fmt.Errorf("read %d Merkle hashes: %w", len(indexes), s.closedOr(err))
	}
	blocks := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		blocks[r.Block] = r.Hashes
	}
	return engine.HashesFromBlocks(indexes, blocks)
}

// MerkleTreeGrow implements eventstore.MerkleStore: one write transaction
// on the writer connection, queued with appends (a batch of a thousand
// leaves takes a few milliseconds of it).
func (s *Store) MerkleTreeGrow(ctx context.Context, oldSize, newSize int64, hashes []domain.Hash) error {
	if s.closed.Load() {
		return fmt.Errorf("grow the Merkle tree: %w", eventstore.ErrClosed)
	}
	first, err := engine.ValidateMerkleTreeGrow(oldSize, newSize, hashes)
	if err != nil {
		return fmt.Errorf("grow the Merkle tree: %w", err)
	}
	if err = s.lockWriter(ctx); err == nil {
		err = s.closedOr(s.growTree(ctx, oldSize, newSize, first, hashes))
		s.unlockWriter()
	}
	if err != nil {
		return fmt.Errorf("grow the Merkle tree from %d to %d leaves: %w", oldSize, newSize, err)
	}
	return nil
}

// growTree runs one MerkleTreeGrow in one transaction on the writer. The
// caller holds the write slot.
func (s *Store) growTree(ctx context.Context, oldSize, newSize, first int64, hashes []domain.Hash) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; a failed grow reports its own error
	moved, err := s.q.MerkleTreeMove(ctx, tx, dbsqlc.MerkleTreeMoveParams{OldSize: oldSize, NewSize: newSize})
	if err != nil {
		return err
	}
	if moved == 0 {
		return eventstore.ErrMerkleTreeMoved
	}
	extend, extendFrom, fresh := engine.SplitMerkleBlocks(first, hashes)
	if extend != nil {
		n, err := s.q.MerkleBlockExtend(ctx, tx, dbsqlc.MerkleBlockExtendParams{Block: extend.Block, Length: int64(extendFrom), Hashes: extend.Hashes})
		if err == nil && n == 0 {
			err = fmt.Errorf("block %d does not end where the tree of %d leaves does: the stored tree is damaged", extend.Block, oldSize)
		}
		if err != nil {
			return err
		}
	}
	for _, b := range fresh {
		if err := s.q.MerkleBlockInsert(ctx, tx, dbsqlc.MerkleBlockInsertParams{Block: b.Block, Hashes: b.Hashes}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// MerkleCheckpointPut implements eventstore.MerkleStore: an insert that
// keeps the first checkpoint of a size, then a read of the one kept.
func (s *Store) MerkleCheckpointPut(ctx context.Context, cp eventstore.MerkleCheckpoint) (eventstore.MerkleCheckpoint, error) {
	if s.closed.Load() {
		return cp, fmt.Errorf("put checkpoint: %w", eventstore.ErrClosed)
	}
	cp, err := engine.ValidateMerkleCheckpoint(cp, time.Now())
	if err != nil {
		return cp, fmt.Errorf("put checkpoint: %w", err)
	}
	err = s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.MerkleCheckpointInsert(ctx, db, dbsqlc.MerkleCheckpointInsertParams{
			Size: cp.Size, Root: cp.Root[:], Note: cp.Note, CreatedAt: cp.CreatedAt.UnixMicro(),
		})
	})
	if err != nil {
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
		return eventstore.MerkleCheckpoint{}, false, fmt.Errorf("read the latest checkpoint: %w", eventstore.ErrClosed)
	}
	return s.cosigned(ctx)(checkpointOf(s.q.MerkleCheckpointLatest(ctx, s.rdb)))
}

// MerkleCheckpointGet implements eventstore.MerkleStore.
func (s *Store) MerkleCheckpointGet(ctx context.Context, size int64) (eventstore.MerkleCheckpoint, bool, error) {
	if s.closed.Load() {
		return eventstore.MerkleCheckpoint{}, false, fmt.Errorf("read checkpoint: %w", eventstore.ErrClosed)
	}
	return s.cosigned(ctx)(checkpointOf(s.q.MerkleCheckpointGet(ctx, s.rdb, size)))
}

// cosigned returns a function that adds a checkpoint's cosignatures to it,
// read on the read-only pool.
func (s *Store) cosigned(ctx context.Context) func(eventstore.MerkleCheckpoint, bool, error) (eventstore.MerkleCheckpoint, bool, error) {
	return func(cp eventstore.MerkleCheckpoint, found bool, err error) (eventstore.MerkleCheckpoint, bool, error) {
		if err != nil || !found {
			return cp, found, err
		}
		lines, err := s.q.MerkleCosignaturesOf(ctx, s.rdb, cp.Size)
		if err != nil {
			return cp, false, fmt.Errorf("read the cosignatures of checkpoint %d: %w", cp.Size, s.closedOr(err))
		}
		cp.Cosignatures = []byte(strings.Join(lines, ""))
		return cp, true, nil
	}
}

// MerkleCosignaturePut implements eventstore.MerkleStore, on the writer.
func (s *Store) MerkleCosignaturePut(ctx context.Context, size int64, witness string, line []byte) error {
	if s.closed.Load() {
		return fmt.Errorf("put cosignature: %w", eventstore.ErrClosed)
	}
	if err := engine.ValidateMerkleCosignature(size, witness, line); err != nil {
		return fmt.Errorf("put cosignature: %w", err)
	}
	if _, found, err := checkpointOf(s.q.MerkleCheckpointGet(ctx, s.rdb, size)); err != nil || !found {
		if err == nil {
			err = &domain.ValidationError{Field: "size", Reason: fmt.Sprintf("%d has no checkpoint to cosign", size)}
		}
		return fmt.Errorf("put cosignature: %w", s.closedOr(err))
	}
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		return s.q.MerkleCosignatureInsert(ctx, db, dbsqlc.MerkleCosignatureInsertParams{
			Size: size, Witness: witness, Line: string(line), CreatedAt: time.Now().UnixMicro(),
		})
	})
	if err != nil {
		return fmt.Errorf("put the cosignature of checkpoint %d: %w", size, err)
	}
	return nil
}

// MerkleCosignedSize implements eventstore.MerkleStore, on the read-only pool.
func (s *Store) MerkleCosignedSize(ctx context.Context, witness string) (int64, bool, error) {
	if s.closed.Load() {
		return 0, false, fmt.Errorf("read the size a witness cosigned: %w", eventstore.ErrClosed)
	}
	size, err := s.q.MerkleCosignedSize(ctx, s.rdb, witness)
	if err != nil {
		return 0, false, fmt.Errorf("read the size a witness cosigned: %w", s.closedOr(err))
	}
	return size, size >= 0, nil
}

// checkpointOf converts a checkpoint row.
func checkpointOf(r dbsqlc.MerkleCheckpoint, err error) (eventstore.MerkleCheckpoint, bool, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return eventstore.MerkleCheckpoint{}, false, nil
	case err != nil:
		return eventstore.MerkleCheckpoint{}, false, fmt.Errorf("read checkpoint: %w", err)
	}
	cp := eventstore.MerkleCheckpoint{Size: r.Size, Note: r.Note, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
	if err := scanHash(&cp.Root, r.Root); err != nil {
		return eventstore.MerkleCheckpoint{}, false, fmt.Errorf("read checkpoint of size %d: %w", r.Size, err)
	}
	return cp, true, nil
}
