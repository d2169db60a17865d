package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// FeedCheckpoint keeps a feed consumer's position (such as the relay's) in
// the projection_checkpoints table of the store's database.
type FeedCheckpoint struct {
	store *Store
	name  string
}

// Checkpoint returns the checkpoint called name.
func (s *Store) Checkpoint(name string) FeedCheckpoint { return FeedCheckpoint{store: s, name: name} }

// Load returns the saved position, or 0 when none was saved.
func (c FeedCheckpoint) Load(ctx context.Context) (int64, error) {
	n, err := c.store.q.ProjectionCheckpointGet(ctx, c.store.pool, c.name)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load checkpoint %s: %w", c.name, err)
	}
	return n, nil
}

// Save records next as the first position not yet handled.
func (c FeedCheckpoint) Save(ctx context.Context, next int64) error {
	if err := c.store.q.CheckpointSave(ctx, c.store.pool, dbsqlc.CheckpointSaveParams{Name: c.name, NextPosition: next}); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", c.name, err)
	}
	return nil
}

// CheckpointList returns the next position of every checkpoint in the
// store's database (the read models', the relay's, webhook dispatch's …),
// by name: with FeedHead, how far each consumer lags the feed.
func (s *Store) CheckpointList(ctx context.Context) (map[string]int64, error) {
	rows, err := s.q.ProjectionCheckpointList(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[r.Name] = r.NextPosition
	}
	return m, nil
}
