package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/eventstore"
)

// testLeases: every store keeps leases (eventstore.LeaseStore).
func testLeases(t *testing.T, newStore factory) {
	ls, ok := newStore(t, eventstore.Options{}).(eventstore.LeaseStore)
	if !ok {
		t.Fatal("the store does not implement eventstore.LeaseStore")
	}
	ctx := t.Context()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a := eventstore.Lease{TaskID: uuid.NewString(), TenantID: "t", WorkerID: "w1", Attempt: 1, ExpiresAt: now.Add(30 * time.Second)}
	b := eventstore.Lease{TaskID: uuid.NewString(), TenantID: "t", WorkerID: "w2", Attempt: 2, ExpiresAt: now.Add(10 * time.Second)}
	for _, l := range []eventstore.Lease{a, b} {
		if err := ls.PutLease(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ls.ExpiredLeases(ctx, now, 10); err != nil || len(got) != 0 {
		t.Fatalf("expired before any expiry: %v, %v", got, err)
	}
	got, err := ls.ExpiredLeases(ctx, now.Add(time.Minute), 10)
	if err != nil || len(got) != 2 || got[0] != b || got[1] != a {
		t.Fatalf("expired a minute later: %+v, %v; want b then a", got, err)
	}
	// Only the holder of the attempt renews.
	if ok, err := ls.RenewLease(ctx, a.TaskID, "w2", 1, now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("renew by another worker: %v, %v", ok, err)
	}
	if ok, err := ls.RenewLease(ctx, a.TaskID, "w1", 2, now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("renew of another attempt: %v, %v", ok, err)
	}
	if ok, err := ls.RenewLease(ctx, a.TaskID, "w1", 1, now.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("renew by its holder: %v, %v", ok, err)
	}
	if got, _ := ls.ExpiredLeases(ctx, now.Add(time.Minute), 10); len(got) != 1 || got[0].TaskID != b.TaskID {
		t.Fatalf("after renewal: %+v", got)
	}
	// A new attempt replaces the lease; dropping an old attempt leaves it.
	a2 := a
	a2.WorkerID, a2.Attempt = "w3", 2
	if err := ls.PutLease(ctx, a2); err != nil {
		t.Fatal(err)
	}
	if err := ls.DropLease(ctx, a.TaskID, 1); err != nil {
		t.Fatal(err)
	}
	if ok, _ := ls.RenewLease(ctx, a.TaskID, "w3", 2, now.Add(2*time.Hour)); !ok {
		t.Fatal("dropping attempt 1 removed attempt 2's lease")
	}
	if err := ls.DropLease(ctx, a.TaskID, 2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := ls.RenewLease(ctx, a.TaskID, "w3", 2, now.Add(2*time.Hour)); ok {
		t.Fatal("a dropped lease renewed")
	}
}
