package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// recorder is a dbsqlc.DBTX that runs nothing: it keeps the text of the
// query a generated method would run, for the tests to explain it.
type recorder struct {
	query string
	db    *sql.DB // answers QueryRowContext with no row
}

var errRecorded = errors.New("recorded, not run")

func (r *recorder) ExecContext(_ context.Context, query string, _ ...any) (sql.Result, error) {
	r.query = query
	return nil, errRecorded
}

func (r *recorder) PrepareContext(_ context.Context, query string) (*sql.Stmt, error) {
	r.query = query
	return nil, errRecorded
}

func (r *recorder) QueryContext(_ context.Context, query string, _ ...any) (*sql.Rows, error) {
	r.query = query
	return nil, errRecorded
}

func (r *recorder) QueryRowContext(ctx context.Context, query string, _ ...any) *sql.Row {
	r.query = query
	return r.db.QueryRowContext(ctx, "SELECT 1 WHERE 0")
}

// queryOf returns the SQL text of the generated query that call runs.
func queryOf(t *testing.T, s *Store, call func(ctx context.Context, q *dbsqlc.Queries, db dbsqlc.DBTX) error) string {
	t.Helper()
	r := &recorder{db: s.reader}
	_ = call(t.Context(), s.q, r)
	if r.query == "" {
		t.Fatal("the call ran no query")
	}
	return r.query
}
