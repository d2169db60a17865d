package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/migrate"
	schema "github.com/axontask/axontask/sql"
)

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := context.Background()
	if err := Migrate(ctx, s.pool); err != nil {
		t.Fatalf("second migration run: %v", err)
	}
	want, err := migrate.List(schema.PostgresMigrations)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(want) {
		t.Fatalf("schema_migrations holds %d rows (err %v), want %d", n, err, len(want))
	}
	if _, err := s.pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if other, err := Open(octx, url, Config{}); err == nil {
		_ = other.Close()
		t.Fatal("Open succeeded on a database with a newer schema")
	} else if !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("unclear error: %v", err)
	}
}
