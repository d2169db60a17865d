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

// testAppendLeaseTake: the append and the lease commit together; a
// refused lease appends nothing, a refused append takes no lease, and a
// retry of a committed call returns its events.
func testAppendLeaseTake(t *testing.T, newStore Opener[LeaseStore]) {
	ls := newStore(t, eventstore.Options{})
	ctx := t.Context()
	claimed := newStream()
	appendOK(t, ls, claimed, 0, outputEvents(0, 1))
	claim := outputEvents(1, 1)
	got, err := ls.AppendLeaseTake(ctx, claimed, 1, claim, leaseOf(claimed), 1)
	if err != nil || len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("AppendLeaseTake: %v, %v", got, err)
	}
	if !leased(t, ls)[claimed.ID] {
		t.Fatal("the lease was not taken with the append")
	}
	again, err := ls.AppendLeaseTake(ctx, claimed, 1, claim, leaseOf(claimed), 1)
	if err != nil || len(again) != 1 || again[0].EventID != got[0].EventID {
		t.Fatalf("a retry of a committed AppendLeaseTake: %v, %v; want its events", again, err)
	}

	// The tenant is at its limit of 1: nothing is appended.
	other := newStream()
	appendOK(t, ls, other, 0, outputEvents(0, 1))
	if _, err := ls.AppendLeaseTake(ctx, other, 1, outputEvents(1, 1), leaseOf(other), 1); !errors.Is(err, eventstore.ErrTenantAtLimit) {
		t.Fatalf("AppendLeaseTake past the tenant's limit: %v, want ErrTenantAtLimit", err)
	}
	// The task has a lease: nothing is appended.
	if _, err := ls.AppendLeaseTake(ctx, claimed, 2, outputEvents(2, 1), leaseOf(claimed), 10); !errors.Is(err, eventstore.ErrLeaseTaken) {
		t.Fatalf("AppendLeaseTake of a leased task: %v, want ErrLeaseTaken", err)
	}
	// The append conflicts: no lease is taken.
	if _, err := ls.AppendLeaseTake(ctx, other, 0, outputEvents(1, 1), leaseOf(other), 10); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("AppendLeaseTake at a stale seq: %v, want a conflict", err)
	}
	if leased(t, ls)[other.ID] {
		t.Fatal("a refused append took its lease")
	}
	if n := len(readStream(t, ls, other.ID)); n != 1 {
		t.Fatalf("refused calls left %d events in the stream, want 1", n)
	}
	if n := len(readStream(t, ls, claimed.ID)); n != 2 {
		t.Fatalf("a refused call appended: the claimed stream holds %d events, want 2", n)
	}
	// The lease must be the stream's task's.
	stray := leaseOf(other)
	stray.TaskID = newStream().ID
	_, err = ls.AppendLeaseTake(ctx, other, 1, outputEvents(1, 1), stray, 10)
	checkValidation(t, err, "task_id")
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
