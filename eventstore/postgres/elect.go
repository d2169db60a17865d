package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axontask/axontask/internal/backoff"
)

// RunElected runs fn while this process holds the session advisory lock
// key, among all processes on the database: one runs fn at a time. When
// the lock's connection fails, fn's context is canceled; when fn returns,
// the lock is released. It retries until ctx ends and returns ctx's error.
// role names fn in the log lines of its elections.
func (s *Store) RunElected(ctx context.Context, role string, key int64, fn func(ctx context.Context) error) error {
	s.runElected(ctx, key, role, func(ctx context.Context, conn *pgxpool.Conn) error {
		leadCtx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go s.watchLock(leadCtx, cancel, conn, key)
		err := fn(leadCtx)
		if cause := context.Cause(leadCtx); ctx.Err() == nil && cause != nil && errors.Is(err, context.Canceled) {
			return cause // why the lead was stopped, for runElected's log
		}
		return err
	})
	return ctx.Err()
}

// stableLead is how long a leadership must have lasted for its loss to be
// news: a role that loses it sooner again and again (its dependency is
// down) is one failure, logged once and retried with backoff.
const stableLead = 10 * time.Second

// runElected takes part in the election for the session advisory lock key
// until ctx ends: whenever it wins, it runs lead with the connection that
// holds the lock (a role that uses that connection ends with it). Closing
// the connection afterwards is what releases the lock, whatever happened.
//
// It logs state changes only: leadership lost (after a stable lead), the
// election failing (the store is out of reach), leading again after that;
// retries back off with jitter up to 2 s, so that a database that comes
// back is led again within seconds.
func (s *Store) runElected(ctx context.Context, key int64, role string, lead func(ctx context.Context, conn *pgxpool.Conn) error) {
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: role + ": election", Logger: s.cfg.Logger, Max: 2 * time.Second}
	for ctx.Err() == nil {
		won, led, err := s.tryLead(ctx, key, func(ctx context.Context, conn *pgxpool.Conn) error {
			if retry.Failing() {
				s.cfg.Logger.Info(role+": leading again", "key", key)
			}
			return lead(ctx, conn)
		})
		if ctx.Err() != nil {
			return
		}
		switch {
		case !won && err == nil:
			retry.Succeeded() // another process leads; ask again later
			_ = backoff.Sleep(ctx, time.Second)
		case !won:
			_ = retry.Failed(ctx, err)
		case led >= stableLead:
			retry.Succeeded()
			s.cfg.Logger.Warn(role+": lost leadership; standing again", "key", key, "led_for", led.Round(time.Second), "err", err)
			_ = backoff.Sleep(ctx, backoff.DefaultMin)
		default:
			_ = retry.Failed(ctx, fmt.Errorf("lost leadership after %s: %w", led.Round(time.Millisecond), err))
		}
	}
}

// tryLead stands for election once; when it wins it runs lead and reports
// how long it led and lead's error.
func (s *Store) tryLead(ctx context.Context, key int64, lead func(ctx context.Context, conn *pgxpool.Conn) error) (won bool, led time.Duration, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("acquire connection: %w", err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&won); err != nil || !won {
		conn.Release() // holds no lock: safe to reuse
		return false, 0, err
	}
	defer func() {
		_ = conn.Conn().Close(context.Background())
		conn.Release()
	}()
	began := time.Now()
	err = lead(ctx, conn)
	return true, time.Since(began), err
}

// watchLock pings the lock's connection every 2 s and calls stop when it
// fails: a lock whose session died is no longer held. For roles that do not
// use the connection themselves.
func (s *Store) watchLock(ctx context.Context, stop context.CancelCauseFunc, conn *pgxpool.Conn, key int64) {
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
				stop(fmt.Errorf("lock connection lost: %w", err))
				return
			}
		}
	}
}

// inLockedTx runs fn in a read committed transaction that first takes the
// transaction-scoped advisory lock key: the callers of one key run one at a
// time across every process, and each statement of fn sees every commit
// made before the lock was granted (read committed whatever the server's
// default, so no snapshot is taken before the lock).
func inLockedTx(ctx context.Context, pool *pgxpool.Pool, key int64, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		return fn(tx)
	})
}
