package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axontask/axontask/internal/migrate"
	schema "github.com/axontask/axontask/sql"
)

// migrationLockKey serializes migrations across processes starting at once.
const migrationLockKey int64 = 0x61786f6e5f6d6967 // "axon_mig"

// Migrate applies every embedded migration the database lacks, each in its
// own transaction under a transaction-scoped advisory lock (which cannot
// outlive the transaction). It is safe to run from several processes at
// once, a no-op when the schema is current, and it refuses a database whose
// schema is newer than this build.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	migrations, err := migrate.List(schema.PostgresMigrations)
	if err != nil {
		return err
	}
	known := migrations[len(migrations)-1].Version
	for _, m := range migrations {
		// Read committed, so that a statement after the lock (a
		// migration's backfill) sees every write committed before it: a
		// migration that adds a trigger and then counts what is there
		// relies on it (0026).
		err := inLockedTx(ctx, pool, migrationLockKey, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var newest int
			if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if newest > known {
				return fmt.Errorf("the database has schema version %d, newer than this build's %d: upgrade AxonTask instead of running an older build against it", newest, known)
			}
			var done bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", m.Version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	return nil
}
