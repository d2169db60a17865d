package sqlite

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// FeedCheckpoint keeps a consumer's position (such as the Stripe meter
// reporter's) in the projection_checkpoints table of the store's file.
type FeedCheckpoint struct {
	store *Store
	name  string
}

// Checkpoint returns the checkpoint called name.
func (s *Store) Checkpoint(name string) FeedCheckpoint { return FeedCheckpoint{store: s, name: name} }

// Load returns the saved position, or 0 when none was saved.
func (c FeedCheckpoint) Load(ctx context.Context) (int64, error) {
	return c.store.TaskViewsCheckpoint(ctx, c.name)
}

// Save records next as the first position not yet handled, on the writer
// connection.
func (c FeedCheckpoint) Save(ctx context.Context, next int64) error {
	s := c.store
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	if err := s.q.CheckpointSave(ctx, s.writer, dbsqlc.CheckpointSaveParams{Name: c.name, NextPosition: next}); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", c.name, s.closedOr(err))
	}
	return nil
}

// CheckpointList returns the next position of every checkpoint in the
// store's file (the read models', webhook dispatch's …), by name: with
// FeedHead, how far each consumer lags the feed.
func (s *Store) CheckpointList(ctx context.Context) (map[string]int64, error) {
	rows, err := s.q.ProjectionCheckpointList(ctx, s.rdb)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", s.closedOr(err))
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[r.Name] = r.NextPosition
	}
	return m, nil
}
