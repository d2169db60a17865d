package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/axontask/axontask/eventstore"
)

// leaseOf returns a lease on stream's task, held by worker w1 for its
// first attempt.
func leaseOf(stream eventstore.Stream) eventstore.Lease {
	return eventstore.Lease{TaskID: stream.ID, TenantID: stream.TenantID, WorkerID: "w1", Attempt: 1, ExpiresAt: baseTime.Add(time.Minute)}
}

// leased returns the task ids of every lease in ls.
func leased(t *testing.T, ls LeaseStore) map[string]bool {
	t.Helper()
	all, err := ls.LeasesExpired(t.Context(), baseTime.Add(24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, l := range all {
		ids[l.TaskID] = true
	}
	return ids
}

// testAppendLeaseDrop: the append and the drop of the lease commit
// together; a refused append keeps the lease.
func testAppendLeaseDrop(t *testing.T, newStore Opener[LeaseStore]) {
	ls := newStore(t, eventstore.Options{})
	ctx := t.Context()
	stream := newStream()
	appendOK(t, ls, stream, 0, outputEvents(0, 1))
	if err := ls.LeasePut(ctx, leaseOf(stream)); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.AppendLeaseDrop(ctx, stream, 0, outputEvents(1, 1), 1); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("AppendLeaseDrop at a stale seq: %v, want a conflict", err)
	}
	if !leased(t, ls)[stream.ID] {
		t.Fatal("a refused append dropped the lease")
	}
	end := outputEvents(1, 1)
	if _, err := ls.AppendLeaseDrop(ctx, stream, 1, end, 1); err != nil {
		t.Fatal(err)
	}
	if leased(t, ls)[stream.ID] {
		t.Fatal("the lease outlived the append that dropped it")
	}
	if again, err := ls.AppendLeaseDrop(ctx, stream, 1, end, 1); err != nil || len(again) != 1 || again[0].Seq != 2 {
		t.Fatalf("a retry of a committed AppendLeaseDrop: %v, %v; want its events", again, err)
	}
}
