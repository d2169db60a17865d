package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/internal/migrate"
	schema "github.com/axontask/axontask/sql"
)

// createMigrationsTable records which migrations a file has had. It and
// the bookkeeping queries below stay hand-written, as Postgres' do: the
// table must exist before the first migration runs, so it is not in the
// migrations that sqlc reads as the schema, and sqlc cannot check a query
// of a table it does not know without a second copy of its CREATE TABLE.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL -- unix microseconds, UTC
) STRICT`

// migrateSchema applies the embedded SQLite migrations that db lacks, in
// order, each in its own (immediate) transaction, so that two processes
// opening a new file at once apply each migration exactly once. It refuses a
// file that a newer build has migrated further than this build knows.
func migrateSchema(ctx context.Context, db *sql.DB) error {
	migrations, err := migrate.List(schema.SQLiteMigrations)
	if err != nil {
		return err
	}
	if len(migrations) == 0 {
		return errors.New("no embedded migrations: the build is broken")
	}
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if known := migrations[len(migrations)-1].Version; newest > known {
		return fmt.Errorf("the file is at schema version %d but this build knows only up to %d: run a newer AxonTask", newest, known)
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// applyMigration applies m unless the file has it already.
func applyMigration(ctx context.Context, db *sql.DB, m migrate.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var applied string
	err = tx.QueryRowContext(ctx, `SELECT name FROM schema_migrations WHERE version = ?`, m.Version).Scan(&applied)
	switch {
	case err == nil && applied == m.Name:
		return nil
	case err == nil:
		return fmt.Errorf("version %d was applied as %s: this build's migrations differ from those that made the file", m.Version, applied)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}
