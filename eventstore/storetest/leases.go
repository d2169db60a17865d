package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/eventstore"
)

// testLeases: every store keeps leases (eventstore.LeaseStore).
func testLeases(t *testing.T, newStore Opener[LeaseStore]) {
	ls := newStore(t, eventstore.Options{})
	ctx := t.Context()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a := eventstore.Lease{TaskID: uuid.NewString(), TenantID: "t", WorkerID: "w1", Attempt: 1, ExpiresAt: now.Add(30 * time.Second)}
	b := eventstore.Lease{TaskID: uuid.NewString(), TenantID: "t", WorkerID: "w2", Attempt: 2, ExpiresAt: now.Add(10 * time.Second)}
	for _, l := range []eventstore.Lease{a, b} {
		if err := ls.LeasePut(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ls.LeasesExpired(ctx, now, 10); err != nil || len(got) != 0 {
		t.Fatalf("expired before any expiry: %v, %v", got, err)
	}
	got, err := ls.LeasesExpired(ctx, now.Add(time.Minute), 10)
	if err != nil || len(got) != 2 || got[0] != b || got[1] != a {
		t.Fatalf("expired a minute later: %+v, %v; want b then a", got, err)
	}
	// Only the holder of the attempt renews.
	if ok, err := ls.LeaseRenew(ctx, a.TaskID, "w2", 1, now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("renew by another worker: %v, %v", ok, err)
	}
	if ok, err := ls.LeaseRenew(ctx, a.TaskID, "w1", 2, now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("renew of another attempt: %v, %v", ok, err)
	}
	if ok, err := ls.LeaseRenew(ctx, a.TaskID, "w1", 1, now.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("renew by its holder: %v, %v", ok, err)
	}
	if got, _ := ls.LeasesExpired(ctx, now.Add(time.Minute), 10); len(got) != 1 || got[0].TaskID != b.TaskID {
		t.Fatalf("after renewal: %+v", got)
	}
	// A new attempt replaces the lease; dropping an old attempt leaves it.
	a2 := a
	a2.WorkerID, a2.Attempt = "w3", 2
	if err := ls.LeasePut(ctx, a2); err != nil {
		t.Fatal(err)
	}
	if err := ls.LeaseDrop(ctx, a.TaskID, 1); err != nil {
		t.Fatal(err)
	}
	if ok, _ := ls.LeaseRenew(ctx, a.TaskID, "w3", 2, now.Add(2*time.Hour)); !ok {
		t.Fatal("dropping attempt 1 removed attempt 2's lease")
	}
	if err := ls.LeaseDrop(ctx, a.TaskID, 2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := ls.LeaseRenew(ctx, a.TaskID, "w3", 2, now.Add(2*time.Hour)); ok {
		t.Fatal("a dropped lease renewed")
	}
}

// testLeasesClosed: LeasePutWithin on a closed store fails with ErrClosed.
func testLeasesClosed(t *testing.T, newStore Opener[LeaseStore]) {
	s := closedStore(t, newStore)
	checkClosedCalls(t, map[string]func() error{
		"LeasePutWithin": func() error { return s.LeasePutWithin(t.Context(), newLease(tenant, baseTime), 10) },
	})
}
