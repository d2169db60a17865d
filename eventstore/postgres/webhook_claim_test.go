package postgres

import (
	"testing"
	"time"
)

// TestWebhookClaimsTakeTheLock: a webhook claim waits for the claim lock,
// which orders the claims of every process, so that one process's claim
// sees the leases another's committed (an endpoint has one request out at
// a time, a redelivered delivery included).
func TestWebhookClaimsTakeTheLock(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{})
	ctx := t.Context()
	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Rollback(ctx) })
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", webhookClaimLockKey); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.WebhookDeliveryClaim(ctx, time.Now(), time.Now().Add(time.Minute), 10)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a claim went ahead while another held the claim lock (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the claim after the lock was released: %v", err)
	}
}
