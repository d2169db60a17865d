package testpg

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// An owned server restarted after an immediate shutdown answers on the
// same URL with what it had committed; while stopped it refuses.
func TestOwnedServerRestarts(t *testing.T) {
	t.Parallel()
	s := StartOwned(t, CrashSafe)
	ctx := t.Context()
	if err := adminExec(ctx, s.AdminURL(), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := adminExec(ctx, s.AdminURL(), "SELECT 1"); err == nil {
		t.Fatal("a stopped server accepted a connection")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("a second Start of a running server did not fail")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after two restarts the table holds %d (%v), want 42", n, err)
	}
}
