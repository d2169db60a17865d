package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// sealerLockKey is the advisory lock that elects the one sealer per database.
// It never changes: two keys would mean two sealers.
const sealerLockKey int64 = 0x61786f6e5f73656c // "axon_sel"

// Notification channels. The sealer's query (sql/postgres/queries/sealer.sql)
// names feedChannel too.
const (
	feedChannel   = "axontask_feed"   // payload: the new feed head
	appendChannel = "axontask_append" // payload: empty; wakes the sealer
)

// sealCursor is the sealer's position: the next feed position and the
// (xid, id) of the last sealed append.
type sealCursor struct {
	next    int64
	lastXid uint64
	lastID  int64
}

// runSealer takes part in the sealer election until ctx ends. Leadership is a
// session advisory lock held by one dedicated connection, on which the
// sealer also seals: if this process or its connection dies, Postgres
// releases the lock and another process's sealer takes over at the cursor
// committed last.
func (s *Store) runSealer(ctx context.Context) {
	s.runElected(ctx, sealerLockKey, "event store sealer", func(ctx context.Context, conn *pgxpool.Conn) error {
		s.leader.Store(true)
		defer s.leader.Store(false)
		return s.seal(ctx, conn)
	})
}

func (s *Store) seal(ctx context.Context, conn *pgxpool.Conn) error {
	st, err := s.q.SealerStateGet(ctx, conn)
	if err != nil {
		return fmt.Errorf("read sealer state: %w", err)
	}
	cur := sealCursor{next: st.NextPosition, lastXid: st.LastXid, lastID: st.LastID}
	s.observeHead(cur.next)
	const idle = time.Second // safety net: at worst an event waits this long
	blockedWait := time.Duration(0)
	for {
		n, err := s.sealBatch(ctx, conn, &cur)
		if err != nil {
			return err
		}
		if n == s.cfg.SealBatch {
			continue // a backlog: keep sealing
		}
		wait := idle
		if n > 0 {
			blockedWait = 0
		}
		switch {
		case n > 0:
			// Busy: let commits gather for a moment, so that one sealing
			// transaction (and one WAL flush) covers many appends. An idle
			// sealer seals the first append at once.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(s.cfg.SealInterval):
			}
			continue
		default:
			blocked, err := s.q.SealerBlocked(ctx, conn, dbsqlc.SealerBlockedParams{LastXid: cur.lastXid, LastID: cur.lastID})
			if err != nil {
				return fmt.Errorf("check blocked rows: %w", err)
			}
			if blocked {
				// Committed rows wait behind a transaction that is still
				// running; it may end without appending, so look again soon,
				// backing off while it stays open.
				blockedWait = min(max(2*blockedWait, 2*time.Millisecond), 100*time.Millisecond)
				wait = blockedWait
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.sealNudge:
		case <-time.After(wait):
		}
	}
}

// sealBatch positions the events of up to SealBatch committed appends in one
// transaction, advances the cursor and returns how many appends it sealed. A sealer killed mid-batch commits nothing; its
// successor re-reads the committed cursor, so no row is sealed twice or skipped.
//
// The sealing transaction commits without waiting for its WAL flush
// (synchronous_commit = off): the sealer's flush would otherwise double the
// flushes of a busy store. This cannot change a position anyone has read,
// because every append is committed synchronously (Open pins
// synchronous_commit = on for the store's sessions), so every sealed row was
// durable before the sealer could see it; and positions are a pure function
// of the durable, committed rows — those past the cursor in (xid, id) order,
// none of which can appear below an xmin already passed. If a crash loses
// the last sealing transactions, their successor gives every lost position
// to the same event again. (An append made outside this store with
// synchronous_commit off would void that argument.)
func (s *Store) sealBatch(ctx context.Context, conn *pgxpool.Conn, cur *sealCursor) (int, error) {
	var row dbsqlc.SealerSealRow
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		var err error
		row, err = s.q.SealerSeal(ctx, tx, dbsqlc.SealerSealParams{
			LastXid: cur.lastXid, LastID: cur.lastID, MaxAppends: int32(s.cfg.SealBatch), NextPosition: cur.next,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // nothing to seal
		}
		if err != nil {
			return err
		}
		if s.testHookBeforeSealCommit != nil {
			s.testHookBeforeSealCommit(conn.Conn().PgConn().PID())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal at position %d: %w", cur.next, err)
	}
	if row.Appends == 0 {
		return 0, nil
	}
	*cur = sealCursor{next: row.NextPosition, lastXid: row.LastXid, lastID: row.LastID}
	s.observeHead(cur.next)
	return int(row.Appends), nil
}

// nudgeSealer tells a sealer that rows were committed: directly when this
// process leads, otherwise through a coalesced NOTIFY sent off the append path.
func (s *Store) nudgeSealer() {
	ch := s.remoteNudge
	if s.leader.Load() {
		ch = s.sealNudge
	}
	select {
	case ch <- struct{}{}:
	default: // a nudge is already pending; it covers this commit too
	}
}

// notifyRemote sends one NOTIFY per pending nudge, so that appends never
// take Postgres's notify-queue lock themselves.
func (s *Store) notifyRemote(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.remoteNudge:
		}
		if s.leader.Load() {
			s.wakeLocalSealer()
			continue
		}
		if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, '')", appendChannel); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("event store: notify sealer", "err", err)
		}
	}
}

func (s *Store) wakeLocalSealer() {
	select {
	case s.sealNudge <- struct{}{}:
	default:
	}
}

// SealerPending returns how many appends the sealer has not sealed yet:
// committed (or still committing) appends that the feed has given no
// positions. It stays near 0 while the sealer keeps up; for the
// operators' metrics.
func (s *Store) SealerPending(ctx context.Context) (int64, error) {
	n, err := s.q.SealerPending(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("count unsealed appends: %w", err)
	}
	return n, nil
}
