package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// FeedCheckpoint keeps a feed consumer's position (such as the relay's) in
// the feed_checkpoints table of the store's database.
type FeedCheckpoint struct {
	store *Store
	name  string
}

// Checkpoint returns the checkpoint called name.
func (s *Store) Checkpoint(name string) FeedCheckpoint { return FeedCheckpoint{store: s, name: name} }

// Load returns the saved position, or 0 when none was saved.
func (c FeedCheckpoint) Load(ctx context.Context) (int64, error) {
	n, err := c.store.q.CheckpointGet(ctx, c.store.pool, c.name)
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
	if err := c.store.q.CheckpointSet(ctx, c.store.pool, dbsqlc.CheckpointSetParams{Name: c.name, NextPosition: next}); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", c.name, err)
	}
	return nil
}

// RunElected runs fn while this process holds the session advisory lock
// key, among all processes on the database: one runs fn at a time. When
// the lock's connection fails, fn's context is canceled; when fn returns,
// the lock is released. It retries until ctx ends and returns ctx's error.
func (s *Store) RunElected(ctx context.Context, key int64, fn func(ctx context.Context) error) error {
	for ctx.Err() == nil {
		if err := s.leadOnce(ctx, key, fn); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("elected role ended", "key", key, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return ctx.Err()
}

func (s *Store) leadOnce(ctx context.Context, key int64, fn func(ctx context.Context) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	var won bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&won); err != nil || !won {
		conn.Release()
		return err
	}
	defer func() {
		_ = conn.Conn().Close(context.Background()) // releases the lock
		conn.Release()
	}()
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// A lock whose session died is no longer held: stop leading.
		ticker := time.NewTicker(2 * time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-leadCtx.Done():
				return
			case <-ticker.C:
				pctx, pcancel := context.WithTimeout(leadCtx, 2*time.Second)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil && leadCtx.Err() == nil {
					s.cfg.Logger.Warn("elected role: lock connection lost", "key", key, "err", err)
					cancel()
					return
				}
			}
		}
	}()
	return fn(leadCtx)
}
