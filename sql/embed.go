// Package schema embeds AxonTask's SQL migrations, one folder per engine.
// The migrations are the only copy of the schema: sqlc reads them too.
// (The package is not named sql so that it never shadows database/sql.)
package schema

import (
	"embed"
	"io/fs"
)

//go:embed postgres/migrations/*.sql sqlite/migrations/*.sql
var files embed.FS

// PostgresMigrations holds the Postgres migrations, named NNNN_description.sql.
var PostgresMigrations = mustSub("postgres/migrations")

// SQLiteMigrations holds the SQLite migrations, named NNNN_description.sql.
var SQLiteMigrations = mustSub("sqlite/migrations")

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
