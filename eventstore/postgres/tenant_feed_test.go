package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/axontask/axontask/projections"
)

// TestTenantFeedWaitAcrossProcesses: a TenantFeedWait in one process wakes
// when another process's index runner commits (its NOTIFY), although the
// waiting process applies nothing and reads nothing meanwhile.
func TestTenantFeedWaitAcrossProcesses(t *testing.T) {
	t.Parallel()
	indexer, url := openStore(t, Config{})
	waiter := openStoreAt(t, url, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	head, err := waiter.TenantFeedHead(ctx)
	if err != nil || head != 0 {
		t.Fatalf("TenantFeedHead of an empty store = %d, %v", head, err)
	}
	woke := make(chan error, 1)
	go func() { woke <- waiter.TenantFeedWait(ctx, 0) }()

	if _, err := indexer.Append(ctx, taskStream("tenant-a"), 0, outputEvents(2, 0)); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, indexer, 2)
	r, err := projections.NewRunner(indexer, indexer.TenantFeedIndex(), projections.RunnerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-woke; err != nil {
		t.Fatalf("the other process's TenantFeedWait: %v", err)
	}
	if h, err := waiter.TenantFeedHead(ctx); err != nil || h != 2 {
		t.Fatalf("TenantFeedHead after indexing = %d, %v; want 2", h, err)
	}
}
