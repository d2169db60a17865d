package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

var _ eventstore.MerkleStore = (*Store)(nil)

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

// MerkleHashesRead implements eventstore.MerkleStore: one primary key look-up
// per index, in one query.
func (s *Store) MerkleHashesRead(ctx context.Context, indexes []int64) ([]domain.Hash, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.MerkleHashesRead(ctx, s.pool, indexes)
	if err != nil {
		return nil, fmt.Errorf("read %d Merkle hashes: %w", len(indexes), err)
	}
	found := make(map[int64]domain.Hash, len(rows))
	for _, r := range rows {
		h, err := hashOf(r.Hash)
		if err != nil {
			return nil, fmt.Errorf("read Merkle hash %d: %w", r.Idx, err)
		}
		found[r.Idx] = h
	}
	return engine.OrderMerkleHashes(indexes, found)
}

// MerkleTreeGrow implements eventstore.MerkleStore: one statement, which
// moves the size and inserts the hashes together.
func (s *Store) MerkleTreeGrow(ctx context.Context, oldSize, newSize int64, hashes []domain.Hash) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	first, err := engine.ValidateMerkleTreeGrow(oldSize, newSize, hashes)
	if err != nil {
		return fmt.Errorf("grow the Merkle tree: %w", err)
	}
	arg := dbsqlc.MerkleTreeGrowParams{FirstIndex: first, Hashes: make([][]byte, len(hashes)), NewSize: newSize, OldSize: oldSize}
	for i := range hashes {
		arg.Hashes[i] = hashes[i][:]
	}
	n, err := s.q.MerkleTreeGrow(ctx, s.pool, arg)
	switch {
	case err != nil:
		return fmt.Errorf("grow the Merkle tree from %d to %d leaves: %w", oldSize, newSize, err)
	case n == 0:
		return fmt.Errorf("grow the Merkle tree from %d to %d leaves: %w", oldSize, newSize, eventstore.ErrMerkleTreeMoved)
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
	return checkpointOf(s.q.MerkleCheckpointLatest(ctx, s.pool))
}

// MerkleCheckpointGet implements eventstore.MerkleStore.
func (s *Store) MerkleCheckpointGet(ctx context.Context, size int64) (eventstore.MerkleCheckpoint, bool, error) {
	if s.closed.Load() {
		return eventstore.MerkleCheckpoint{}, false, eventstore.ErrClosed
	}
	return checkpointOf(s.q.MerkleCheckpointGet(ctx, s.pool, size))
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
