package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// Append implements eventstore.Store. The append is one INSERT statement,
// atomic on its own, committed through the group committer: alone at once
// when no commit is in flight, otherwise with the appends of other streams
// that queued meanwhile, in one transaction, where each keeps its own
// outcome. The stream's head comes from the head cache when this store
// wrote it last (and a new stream needs no head), so an append costs one
// round trip.
func (s *Store) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	return s.appendPart(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, nil)
}

// appendPart appends a through the group committer, with what with adds to
// its part (a lease taken or dropped with it; nil: nothing).
func (s *Store) appendPart(ctx context.Context, a eventstore.StreamAppend, with func(*part)) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := engine.ValidateAppend(a.Stream, a.ExpectedSeq); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	p, stored, err := s.prepare(ctx, a)
	if stored != nil || err != nil {
		return stored, err
	}
	if with != nil {
		with(p)
	}
	if err := s.group.commit(ctx, p); err != nil {
		if errors.Is(err, eventstore.ErrLeaseTaken) || errors.Is(err, eventstore.ErrTenantAtLimit) {
			return nil, err
		}
		return s.failed(ctx, a, err)
	}
	s.committed(p)
	engine.NotifyCommitted(ctx, s.cfg.Options, p.prepared)
	return p.prepared, nil
}

// AppendBatch implements eventstore.BatchAppender: every part's insert is
// sent in one round trip inside one transaction, which commits only when
// every part went in.
func (s *Store) AppendBatch(ctx context.Context, parts []eventstore.StreamAppend) ([][]domain.Event, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := engine.ValidateBatch(parts); err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	// A batch that lost a race to its own retry (the same batch, committed
	// meanwhile by another caller) is answered by a second look.
	for range 2 {
		out, retry, err := s.appendBatchOnce(ctx, parts)
		if !retry {
			return out, err
		}
	}
	return nil, fmt.Errorf("append batch: the streams kept moving while it was written; retry it")
}

// appendBatchOnce tries an AppendBatch once; retry reports that a part
// turned out to be stored meanwhile, so that the batch should be looked at
// again.
func (s *Store) appendBatchOnce(ctx context.Context, parts []eventstore.StreamAppend) (out [][]domain.Event, retry bool, err error) {
	out = make([][]domain.Event, len(parts))
	pending := make([]*part, 0, len(parts))
	firstStored := -1
	for i, a := range parts {
		p, stored, err := s.prepare(ctx, a)
		switch {
		case err != nil:
			return nil, false, &eventstore.BatchPartError{Index: i, StreamID: a.Stream.ID, Err: err}
		case stored != nil:
			out[i] = stored
			if firstStored < 0 {
				firstStored = i
			}
		default:
			p.index = i
			pending = append(pending, p)
		}
	}
	switch {
	case len(pending) == 0:
		return out, false, nil // a retry of a committed batch
	case firstStored >= 0:
		// The same batch may have committed while this one was prepared:
		// then it is a retry, and every other part is stored too.
		for _, p := range pending {
			stored, err := s.retried(ctx, p.StreamAppend)
			if stored == nil || err != nil {
				a := parts[firstStored]
				return nil, false, &eventstore.BatchPartError{Index: firstStored, StreamID: a.Stream.ID, Err: &eventstore.ConflictError{
					StreamID: a.Stream.ID, Expected: a.ExpectedSeq, Actual: out[firstStored][len(out[firstStored])-1].Seq}}
			}
			out[p.index] = stored
		}
		return out, false, nil
	}
	failed := -1
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		errs, err := s.insert(ctx, tx, pending)
		for i, e := range errs {
			if e != nil {
				failed = i
				return e
			}
		}
		return err
	})
	if failed >= 0 {
		p := pending[failed]
		stored, rerr := s.failed(ctx, p.StreamAppend, err)
		if stored != nil {
			return nil, true, nil
		}
		return nil, false, &eventstore.BatchPartError{Index: p.index, StreamID: p.Stream.ID, Err: rerr}
	}
	if err != nil {
		return nil, false, fmt.Errorf("append batch: %w", s.closedOr(err))
	}
	events := 0
	for _, p := range pending {
		s.committed(p)
		events += len(p.prepared)
	}
	s.nudgeSealer()
	engine.ObserveCommit(s.cfg.Options, len(pending), events)
	for _, p := range pending {
		out[p.index] = p.prepared
		engine.NotifyCommitted(ctx, s.cfg.Options, p.prepared)
	}
	return out, false, nil
}

// part is one stream's append, its events chained to the head they will be
// inserted after.
type part struct {
	eventstore.StreamAppend
	head     engine.Head
	prepared []domain.Event
	// index is the part's index in an AppendBatch.
	index int
	// take, when set, is the lease a claim takes (within limit) with the
	// append; the append goes in only if the lease was taken.
	take  *eventstore.Lease
	limit int
	// drop, when above 0, is the attempt whose lease an end drops, if the
	// append went in.
	drop int
}

// prepare validates an append and chains its events to the stream's head:
// the cached head when it is at the expected seq; no head for an append at
// seq 0 to a stream the cache does not know (the insert checks that the
// stream is new); otherwise the stored head. It returns the part ready to
// insert, or the stored events of a committed retry, or the error that
// refuses the append.
func (s *Store) prepare(ctx context.Context, a eventstore.StreamAppend) (*part, []domain.Event, error) {
	head, ok := s.heads.get(a.Stream.ID)
	if !ok && a.ExpectedSeq == 0 {
		head, ok = engine.Head{}, true
	}
	if !ok || head.Seq != a.ExpectedSeq {
		var err error
		if head, err = s.readHead(ctx, a.Stream.ID); err != nil {
			return nil, nil, err
		}
	}
	// Prepare first, so that invalid input is always a validation error.
	prepared, err := eventstore.Prepare(a.Stream, head.Seq, head.Hash, a.Events, s.cfg.Options)
	if err != nil {
		return nil, nil, err
	}
	stored, err := engine.CheckHead(a.Stream, a.ExpectedSeq, head, func() ([]domain.Event, error) {
		return s.retried(ctx, a)
	})
	if stored != nil || err != nil {
		return nil, stored, err
	}
	return &part{StreamAppend: a, head: head, prepared: prepared}, nil, nil
}

// errHeadMoved: a part's insert found the stream's head elsewhere than the
// head its events were chained to.
var errHeadMoved = errors.New("the stream's head is not the one the append was chained to")

// insert sends the statements of parts in one round trip on db: the pool
// (one implicit transaction, committed when no statement failed) or a
// transaction. A part is its insert, with the lease it takes (take) or
// the drop of its lease (drop). The leases are taken first, in the order
// of their tenants, so that a transaction takes the tenants' locks before
// anything else and in one order: two never wait for each other. Each
// insert of a claim goes in only if its lease was taken; each drop happens
// only if its insert went in. insert returns each part's outcome: nil when
// it was inserted; the refusal of its lease (ErrLeaseTaken,
// ErrTenantAtLimit), and nothing of it was inserted; errHeadMoved when its
// stream's head had moved (nothing of it was inserted); or a statement's
// error. It also returns the error of the batch itself. After a statement
// fails, the transaction is aborted: nothing of the batch is stored, and
// the later parts fail too (see aborted).
func (s *Store) insert(ctx context.Context, db dbsqlc.DBTX, parts []*part) ([]error, error) {
	errs := make([]error, len(parts))
	var q queue
	takes := make([]int, 0, len(parts))
	for i, p := range parts {
		if p.take != nil {
			takes = append(takes, i)
		}
	}
	slices.SortStableFunc(takes, func(a, b int) int { return strings.Compare(parts[a].take.TenantID, parts[b].take.TenantID) })
	for _, i := range takes {
		p := parts[i]
		q.add(func(db dbsqlc.DBTX) {
			s.q.LeasePutWithin(ctx, db, []dbsqlc.LeasePutWithinParams{leasePutWithinParams(*p.take, p.limit)})
		}).QueryRow(func(row pgx.Row) error {
			var outcome string
			if errs[i] = row.Scan(&outcome); errs[i] == nil {
				errs[i] = leaseOutcome(*p.take, p.limit, outcome)
			}
			return nil
		})
	}
	for i, p := range parts {
		params := appendParams(p.Stream, p.head.Seq, p.head.Hash, p.prepared)
		if p.take != nil {
			params.LeaseWorkerID, params.LeaseAttempt = p.take.WorkerID, int32(p.take.Attempt)
		}
		q.add(func(db dbsqlc.DBTX) { s.q.EventsAppend(ctx, db, []dbsqlc.EventsAppendParams{params}) }).QueryRow(func(row pgx.Row) error {
			var count int32
			err := row.Scan(&count)
			switch {
			case errs[i] != nil: // its lease was refused, or failed
			case errors.Is(err, pgx.ErrNoRows):
				errs[i] = errHeadMoved
			default:
				errs[i] = err
			}
			return nil
		})
	}
	for _, p := range parts {
		if p.drop > 0 {
			q.add(func(db dbsqlc.DBTX) {
				s.q.LeaseDropAfter(ctx, db, []dbsqlc.LeaseDropAfterParams{{TaskID: p.Stream.ID, Attempt: int32(p.drop), EventID: p.prepared[0].EventID}})
			}).Exec(func(_ pgconn.CommandTag) error { return nil })
		}
	}
	return errs, db.SendBatch(ctx, &q.batch).Close()
}

// aborted reports whether a statement of a batch that insert sent failed
// (errs and err are its answer): then its transaction was rolled back, and
// no part of it is stored, whatever its own outcome says.
func aborted(errs []error, err error) bool {
	var pgErr *pgconn.PgError
	for _, e := range errs {
		if errors.As(e, &pgErr) {
			return true
		}
	}
	return errors.As(err, &pgErr)
}

// queue collects the statements of sqlc's batch queries into one batch,
// so that statements of several queries go in one round trip.
type queue struct{ batch pgx.Batch }

// add calls call with a DBTX that queues the statement the batch query
// call sends (of one item), and returns it, so that the caller sets how
// its result is read.
func (q *queue) add(call func(db dbsqlc.DBTX)) *pgx.QueuedQuery {
	call(queuer{q})
	return q.batch.QueuedQueries[len(q.batch.QueuedQueries)-1]
}

// queuer is the DBTX of queue.add: it only queues batches.
type queuer struct{ q *queue }

func (d queuer) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	d.q.batch.QueuedQueries = append(d.q.batch.QueuedQueries, b.QueuedQueries...)
	return nil
}

func (queuer) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errNotBatch
}

func (queuer) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, errNotBatch }

func (queuer) QueryRow(context.Context, string, ...any) pgx.Row { return errRow{} }

// errNotBatch: a query that is not a batch query was given to queue.add.
var errNotBatch = errors.New("queue: only sqlc batch queries can be queued")

type errRow struct{}

func (errRow) Scan(...any) error { return errNotBatch }

// failed answers an append whose insert failed with err: the stored events
// when it was a retry of events stored before (the insert found their
// ids), the refusal the stream's actual head calls for (another tenant's
// stream, a conflict), or err itself when the store could not be asked.
func (s *Store) failed(ctx context.Context, a eventstore.StreamAppend, err error) ([]domain.Event, error) {
	s.heads.drop(a.Stream.ID)
	var pgErr *pgconn.PgError
	if !errors.Is(err, errHeadMoved) && !errors.As(err, &pgErr) {
		return nil, fmt.Errorf("append to %s: %w", a.Stream.ID, s.closedOr(err))
	}
	if stored, rerr := s.retried(ctx, a); stored != nil || rerr != nil {
		return stored, rerr
	}
	head, herr := s.readHead(ctx, a.Stream.ID)
	if herr != nil {
		return nil, herr
	}
	if _, cerr := engine.CheckHead(a.Stream, a.ExpectedSeq, head, func() ([]domain.Event, error) { return nil, nil }); cerr != nil {
		return nil, cerr
	}
	if errors.As(err, &pgErr) && pgErr.Code != pgerrcode.UniqueViolation {
		return nil, fmt.Errorf("append to %s: %w", a.Stream.ID, err)
	}
	return nil, &eventstore.ConflictError{StreamID: a.Stream.ID, Expected: a.ExpectedSeq, Actual: head.Seq}
}

// committed records a committed part's new head.
func (s *Store) committed(p *part) {
	last := p.prepared[len(p.prepared)-1]
	s.heads.put(p.Stream.ID, engine.Head{Seq: last.Seq, Hash: last.Hash, TenantID: p.Stream.TenantID, StreamType: p.Stream.Type})
}

// closedOr returns ErrClosed once the store is closed, err before.
func (s *Store) closedOr(err error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return err
}

func (s *Store) readHead(ctx context.Context, streamID string) (engine.Head, error) {
	row, err := s.q.StreamHead(ctx, s.pool, streamID)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.Head{}, nil
	}
	if err != nil {
		return engine.Head{}, fmt.Errorf("read head of %s: %w", streamID, err)
	}
	h := engine.Head{Seq: row.Seq, TenantID: row.TenantID, StreamType: domain.StreamType(row.StreamType)}
	copy(h.Hash[:], row.Hash)
	return h, nil
}

// retried looks the append's event ids up: (nil, nil) when none is stored,
// otherwise engine.Retried's answer.
func (s *Store) retried(ctx context.Context, a eventstore.StreamAppend) ([]domain.Event, error) {
	ids := make([]uuid.UUID, len(a.Events))
	for i, e := range a.Events {
		ids[i] = e.EventID
	}
	rows, err := s.q.EventsGetByIDs(ctx, s.pool, ids)
	if err != nil {
		return nil, fmt.Errorf("append to %s: look up event ids: %w", a.Stream.ID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	stored := make([]domain.Event, len(rows))
	for i, r := range rows {
		if stored[i], err = toEvent(r.Event, r.Position); err != nil {
			return nil, err
		}
	}
	stored, err = engine.Retried(a.Stream, a.ExpectedSeq, a.Events, stored)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", a.Stream.ID, err)
	}
	return stored, nil
}
