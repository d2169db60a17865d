package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// preparedDB runs the generated queries (dbsqlc) on a pool through
// statements prepared once per query text and then reused: database/sql
// prepares each on a pool connection as it first runs there. It is safe for
// concurrent use. Inside a transaction, inTx runs them through the same
// statements.
//
// On the writer, whose one connection a transaction holds, a statement
// cannot be prepared while one is open: prepare its queries when the store
// opens, and use the writer's preparedDB only through inTx.
type preparedDB struct {
	db    *sql.DB
	stmts sync.Map // query text → *sql.Stmt
}

var _ dbsqlc.DBTX = (*preparedDB)(nil)

// prepare prepares the statements of queries now.
func (p *preparedDB) prepare(ctx context.Context, queries ...string) error {
	for _, query := range queries {
		if _, err := p.stmt(ctx, query); err != nil {
			return fmt.Errorf("prepare %q: %w", query, err)
		}
	}
	return nil
}

// stmt returns the statement of query, preparing it on first use.
func (p *preparedDB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil //nolint:forcetypeassert // the map holds only statements
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()               // another goroutine prepared it first
		return prev.(*sql.Stmt), nil //nolint:forcetypeassert // the map holds only statements
	}
	return st, nil
}

// ExecContext implements dbsqlc.DBTX.
func (p *preparedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext implements dbsqlc.DBTX.
func (p *preparedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext implements dbsqlc.DBTX. A statement that cannot be
// prepared runs unprepared, so that its Row reports the error.
func (p *preparedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// PrepareContext implements dbsqlc.DBTX: it prepares a statement of the
// caller's own, which the caller closes.
func (p *preparedDB) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

// close closes every statement prepared so far.
func (p *preparedDB) close() error {
	var errs []error
	p.stmts.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close()) //nolint:forcetypeassert // the map holds only statements
		return true
	})
	return errors.Join(errs...)
}

// inTx returns a DBTX that runs the generated queries in tx: through p's
// statement of the query when p has one, which tx.StmtContext binds to the
// transaction's connection (where it is prepared already) once per
// transaction; unprepared in tx otherwise. It is not safe for concurrent
// use, as tx is not.
func (p *preparedDB) inTx(tx *sql.Tx) dbsqlc.DBTX {
	return &txDB{p: p, tx: tx, stmts: make(map[string]*sql.Stmt)}
}

// txDB is inTx's DBTX.
type txDB struct {
	p     *preparedDB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // bound to tx, closed with it
}

// stmt returns tx's statement of query, or nil when p has not prepared it.
func (t *txDB) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.stmts[query]; ok {
		return st
	}
	prepared, ok := t.p.stmts.Load(query)
	if !ok {
		return nil
	}
	st := t.tx.StmtContext(ctx, prepared.(*sql.Stmt)) //nolint:forcetypeassert // the map holds only statements
	t.stmts[query] = st
	return st
}

// ExecContext implements dbsqlc.DBTX.
func (t *txDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryContext implements dbsqlc.DBTX.
func (t *txDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext implements dbsqlc.DBTX.
func (t *txDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// PrepareContext implements dbsqlc.DBTX: it prepares a statement of the
// caller's own in tx, closed with it.
func (t *txDB) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}
