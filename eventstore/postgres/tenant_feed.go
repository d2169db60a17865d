package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ eventstore.TenantFeedStore = (*Store)(nil)

// TenantFeedName names the checkpoint of the tenant feed's index. It never
// changes: renaming it would index the whole feed again.
const TenantFeedName = "tenant_feed"

// TenantFeedRead implements eventstore.TenantFeedStore: a range of the
// tenant_feed index, joined to the events. It sees the events the index's
// runner has applied (run one: projections.NewRunner(s,
// s.TenantFeedIndex(), …)), never a position that could still change.
func (s *Store) TenantFeedRead(ctx context.Context, q eventstore.TenantFeedQuery) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	rows, err := s.q.TenantFeedRead(ctx, s.pool, dbsqlc.TenantFeedReadParams{TenantID: q.TenantID, AfterPosition: q.After,
		StreamTypes: stringsOf(q.StreamTypes), Types: stringsOf(q.Types), MaxEvents: int32(engine.ClampLimit(s.cfg.Options, q.Limit))})
	if err != nil {
		return nil, fmt.Errorf("read the feed of tenant %s after %d: %w", q.TenantID, q.After, err)
	}
	out := make([]domain.Event, len(rows))
	for i, r := range rows {
		if out[i], err = toEvent(r.Event, r.Position); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TenantFeedHead implements eventstore.TenantFeedStore: the index's
// checkpoint, the next position it applies.
func (s *Store) TenantFeedHead(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	h, err := s.TaskViewsCheckpoint(ctx, TenantFeedName)
	if err != nil {
		return 0, fmt.Errorf("read the tenant feed head: %w", err)
	}
	s.indexed.Advance(h)
	return h, nil
}

// TenantFeedWait implements eventstore.TenantFeedStore. It wakes when the
// index's runner, in this process or another (through the LISTEN
// connection, which reads the checkpoint again whenever it reconnects),
// commits a batch. While the index is rebuilt (its Reset) it may return
// before the index has reached pos again.
func (s *Store) TenantFeedWait(ctx context.Context, pos int64) error {
	for {
		wake := s.indexed.Wait() // before the checks, so Close's wake-up is never missed
		if s.closed.Load() {
			return eventstore.ErrClosed
		}
		if s.indexed.Load() > pos {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// stringsOf returns vs as strings.
func stringsOf[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TenantFeedIndex returns the projection that keeps the index
// TenantFeedRead reads: run it with a projections.Runner (one per
// deployment, elected; several are safe).
func (s *Store) TenantFeedIndex() projections.Projection { return tenantFeedIndex{s} }

type tenantFeedIndex struct{ s *Store }

func (p tenantFeedIndex) Name() string { return TenantFeedName }

func (p tenantFeedIndex) Checkpoint(ctx context.Context) (int64, error) {
	return p.s.TaskViewsCheckpoint(ctx, TenantFeedName)
}

// Apply indexes events in one transaction with the checkpoint, locked as
// TaskViewsApply locks its own.
func (p tenantFeedIndex) Apply(ctx context.Context, from int64, events []domain.Event) error {
	s := p.s
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := projections.CheckBatch(from, events); err != nil {
		return err
	}
	next := from + int64(len(events))
	params := dbsqlc.TenantFeedInsertParams{}
	for i := range events {
		e := &events[i]
		params.TenantIds, params.Positions = append(params.TenantIds, e.TenantID), append(params.Positions, e.Position)
		params.StreamIds, params.Seqs = append(params.StreamIds, e.StreamID), append(params.Seqs, e.Seq)
		params.StreamTypes, params.Types = append(params.StreamTypes, string(e.StreamType)), append(params.Types, string(e.Type))
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.ProjectionCheckpointEnsure(ctx, tx, TenantFeedName); err != nil {
			return err
		}
		at, err := s.q.ProjectionCheckpointLock(ctx, tx, TenantFeedName)
		if err != nil {
			return err
		}
		if at != from {
			return &projections.CheckpointError{Name: TenantFeedName, Expected: from, Actual: at}
		}
		if err := s.q.TenantFeedInsert(ctx, tx, params); err != nil {
			return err
		}
		if err := s.q.ProjectionCheckpointSet(ctx, tx, dbsqlc.ProjectionCheckpointSetParams{Name: TenantFeedName, NextPosition: next}); err != nil {
			return err
		}
		// Delivered at commit, to the TenantFeedWait calls of every process.
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", indexChannel, strconv.FormatInt(next, 10))
		return err
	})
	if err != nil {
		return fmt.Errorf("index %d events at %d for the tenant feed: %w", len(events), from, err)
	}
	s.indexed.Advance(next)
	return nil
}

// Reset empties the index and its checkpoint, for a rebuild.
func (p tenantFeedIndex) Reset(ctx context.Context) error {
	s := p.s
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.TenantFeedDeleteAll(ctx, tx); err != nil {
			return err
		}
		return s.q.ProjectionCheckpointReset(ctx, tx, TenantFeedName)
	})
	if err != nil {
		return fmt.Errorf("reset the tenant feed index: %w", err)
	}
	return nil
}
