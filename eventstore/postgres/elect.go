package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// RunElected runs fn while this process holds the session advisory lock
// key, among all processes on the database: one runs fn at a time. When
// the lock's connection fails, fn's context is canceled; when fn returns,
// the lock is released. It retries until ctx ends and returns ctx's error.
func (s *Store) RunElected(ctx context.Context, key int64, fn func(ctx context.Context) error) error {
	s.runElected(ctx, key, "elected role", func(ctx context.Context, conn *pgxpool.Conn) error {
		leadCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.watchLock(leadCtx, cancel, conn, key)
		return fn(leadCtx)
	})
	return ctx.Err()
}

// runElected takes part in the election for the session advisory lock key
// until ctx ends: whenever it wins, it runs lead with the connection that
// holds the lock (a role that uses that connection ends with it). Closing
// the connection afterwards is what releases the lock, whatever happened.
func (s *Store) runElected(ctx context.Context, key int64, role string, lead func(ctx context.Context, conn *pgxpool.Conn) error) {
	for ctx.Err() == nil {
		wait := 100 * time.Millisecond
		won, err := s.tryLead(ctx, key, lead)
		if !won && err == nil {
			wait = time.Second // another process leads; ask again later
		}
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn(role+": lost leadership", "key", key, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (s *Store) tryLead(ctx context.Context, key int64, lead func(ctx context.Context, conn *pgxpool.Conn) error) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire connection: %w", err)
	}
	var won bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&won); err != nil || !won {
		conn.Release() // holds no lock: safe to reuse
		return false, err
	}
	defer func() {
		_ = conn.Conn().Close(context.Background())
		conn.Release()
	}()
	return true, lead(ctx, conn)
}

// watchLock pings the lock's connection every 2 s and calls stop when it
// fails: a lock whose session died is no longer held. For roles that do not
// use the connection themselves.
func (s *Store) watchLock(ctx context.Context, stop context.CancelFunc, conn *pgxpool.Conn, key int64) {
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("elected role: lock connection lost", "key", key, "err", err)
				stop()
				return
			}
		}
	}
}
