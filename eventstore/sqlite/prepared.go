package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// preparedDB runs the generated queries (dbsqlc) on a pool through
// statements prepared once per query text and then reused, as the
// hand-written statements were: database/sql prepares each on a pool
// connection as it first runs there. It is safe for concurrent use.
type preparedDB struct {
	db    *sql.DB
	stmts sync.Map // query text → *sql.Stmt
}

var _ dbsqlc.DBTX = (*preparedDB)(nil)

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
