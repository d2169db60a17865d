package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
)

const dispatchName = "webhook_dispatch_test"

// newDelivery is delivery n (position n) of endpoint wh, due at at.
func newDelivery(wh string, n int64, at time.Time) eventstore.WebhookDelivery {
	return eventstore.WebhookDelivery{ID: fmt.Sprintf("msg_%s_%d", wh, n), WebhookID: wh, TenantID: "tenant-1", Position: n,
		StreamID: "task-1", Seq: n + 1, EventType: domain.TaskSucceededType, NextAttemptAt: at, CreatedAt: at}
}

// claimIDs claims at now and returns the claimed ids, sorted.
func claimIDs(t *testing.T, s eventstore.WebhookDeliveryStore, now time.Time) []string {
	t.Helper()
	got, err := s.WebhookDeliveryClaim(t.Context(), now, now.Add(time.Minute), 100)
	if err != nil {
		t.Fatalf("WebhookDeliveryClaim: %v", err)
	}
	ids := make([]string, len(got))
	for i, d := range got {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	return ids
}

// testWebhookDispatch: deliveries and endpoints are stored with the
// checkpoint, once, and only from the checkpoint.
func testWebhookDispatch(t *testing.T, newStore Opener[WebhookDeliveryStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	if at, err := s.WebhookDispatchCheckpoint(ctx, dispatchName); err != nil || at != 0 {
		t.Fatalf("a new checkpoint: %d, %v; want 0", at, err)
	}
	ep := eventstore.WebhookEndpoint{WebhookID: "wh-a", TenantID: "tenant-1", Events: []string{"task.*"}, Active: true}
	ds := []eventstore.WebhookDelivery{newDelivery("wh-a", 0, baseTime), newDelivery("wh-a", 1, baseTime)}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 2, []eventstore.WebhookEndpoint{ep}, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 2, nil, ds); !errors.Is(err, projections.ErrCheckpointMoved) {
		t.Fatalf("applying at a stale checkpoint: %v, want ErrCheckpointMoved", err)
	}
	// Deliveries stored already (a batch dispatched again) stay as they are.
	ep.Active = false
	if err := s.WebhookDispatchApply(ctx, dispatchName, 2, 3, []eventstore.WebhookEndpoint{ep}, []eventstore.WebhookDelivery{newDelivery("wh-a", 2, baseTime)}); err != nil {
		t.Fatal(err)
	}
	if at, _ := s.WebhookDispatchCheckpoint(ctx, dispatchName); at != 3 {
		t.Fatalf("checkpoint %d, want 3", at)
	}
	eps, err := s.WebhookEndpointList(ctx)
	if err != nil || len(eps) != 1 || eps[0].Active || !slices.Equal(eps[0].Events, []string{"task.*"}) {
		t.Fatalf("endpoints %+v, %v; want wh-a inactive with its events", eps, err)
	}
	list, err := s.WebhookDeliveryList(ctx, "wh-a", 1<<62, 10)
	if err != nil || len(list) != 3 || list[0].Position != 2 || list[2].State != eventstore.DeliveryPending || !list[2].CreatedAt.Equal(domain.NormalizeTime(baseTime)) {
		t.Fatalf("delivery log %+v, %v; want 3 pending, newest first", list, err)
	}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 3, 4, nil, []eventstore.WebhookDelivery{newDelivery("wh-a", 9, baseTime)}); err == nil {
		t.Fatal("a delivery outside the batch's positions was stored")
	}
	// Not events: the feed holds nothing.
	expectFeedLen(t, s, 0)
}

// testWebhookDeliveryOrder: an endpoint's deliveries are claimed one at a
// time in position order, when due; claims hold; attempts are recorded once.
func testWebhookDeliveryOrder(t *testing.T, newStore Opener[WebhookDeliveryStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	ds := []eventstore.WebhookDelivery{newDelivery("wh-a", 0, baseTime), newDelivery("wh-b", 1, baseTime.Add(time.Hour)), newDelivery("wh-a", 2, baseTime)}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 3, nil, ds); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, baseTime); !slices.Equal(got, []string{"msg_wh-a_0"}) {
		t.Fatalf("first claim %v, want wh-a's first only (wh-b's is not due)", got)
	}
	if got := claimIDs(t, s, baseTime.Add(time.Second)); len(got) != 0 {
		t.Fatalf("a held claim was claimed again: %v", got)
	}
	fail := eventstore.WebhookAttempt{DeliveryID: "msg_wh-a_0", Attempt: 1, At: baseTime, StatusCode: 500, Latency: 12 * time.Millisecond, Response: "oops\x00\xff", Error: "HTTP 500"}
	for range 2 { // idempotent
		if err := s.WebhookDeliveryRecord(ctx, fail, eventstore.DeliveryPending, baseTime.Add(5*time.Second), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := claimIDs(t, s, baseTime.Add(time.Second)); len(got) != 0 {
		t.Fatalf("claimed %v before the retry is due; the later delivery must wait for the earlier", got)
	}
	if got := claimIDs(t, s, baseTime.Add(5*time.Second)); !slices.Equal(got, []string{"msg_wh-a_0"}) {
		t.Fatalf("the retry: %v", got)
	}
	ok := eventstore.WebhookAttempt{DeliveryID: "msg_wh-a_0", Attempt: 2, At: baseTime.Add(5 * time.Second), StatusCode: 204}
	if err := s.WebhookDeliveryRecord(ctx, ok, eventstore.DeliverySucceeded, baseTime.Add(5*time.Second), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, baseTime.Add(2*time.Hour)); !slices.Equal(got, []string{"msg_wh-a_2", "msg_wh-b_1"}) {
		t.Fatalf("after a success: %v, want wh-a's next and wh-b's", got)
	}
	attempts, err := s.WebhookAttemptList(ctx, []string{"msg_wh-a_0", "msg_wh-a_2"})
	if err != nil || len(attempts["msg_wh-a_0"]) != 2 || len(attempts["msg_wh-a_2"]) != 0 {
		t.Fatalf("attempts %+v, %v; want 2 of the first delivery", attempts, err)
	}
	if a := attempts["msg_wh-a_0"][0]; a.StatusCode != 500 || a.Latency != 12*time.Millisecond || a.Response != "oops\uFFFD\uFFFD" || a.Error != "HTTP 500" {
		t.Errorf("first attempt %+v", a)
	}
	if n, err := s.WebhookDeliveryRetry(ctx, "wh-a", "", baseTime, baseTime.Add(3*time.Hour)); err != nil || n != 2 {
		t.Fatalf("redelivering wh-a's: %d, %v; want 2", n, err)
	}
	if got := claimIDs(t, s, baseTime.Add(3*time.Hour)); !slices.Equal(got, []string{"msg_wh-a_0", "msg_wh-b_1"}) {
		t.Fatalf("after a redelivery: %v", got)
	}
	if n, err := s.WebhookDeliveryRetry(ctx, "wh-a", "msg_wh-a_2", baseTime, baseTime.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("redelivering one delivery: %d, %v; want 1", n, err)
	}
	if n, err := s.WebhookDeliveryRetry(ctx, "wh-a", "", baseTime.Add(time.Hour), baseTime.Add(3*time.Hour)); err != nil || n != 0 {
		t.Fatalf("redelivering since after every delivery was made: %d, %v; want 0", n, err)
	}
}

// record records attempt n of delivery id at at, succeeded when status is
// 2xx, of an endpoint (wh-a) enabled at baseTime, and returns since when
// the endpoint has failed.
func record(t *testing.T, s eventstore.WebhookDeliveryStore, id string, n int, at time.Time, status int) time.Time {
	t.Helper()
	return recordEnabled(t, s, id, n, at, status, baseTime)
}

// recordEnabled is record for an endpoint last enabled at enabledAt.
func recordEnabled(t *testing.T, s eventstore.WebhookDeliveryStore, id string, n int, at time.Time, status int, enabledAt time.Time) time.Time {
	t.Helper()
	a, state := eventstore.WebhookAttempt{DeliveryID: id, Attempt: n, At: at, StatusCode: status}, eventstore.DeliverySucceeded
	if status < 200 || status > 299 {
		a.Error, state = "HTTP "+fmt.Sprint(status), eventstore.DeliveryFailed
	}
	if err := s.WebhookDeliveryRecord(t.Context(), a, state, at, enabledAt); err != nil {
		t.Fatalf("recording attempt %d of %s: %v", n, id, err)
	}
	since, err := s.WebhookEndpointFailingSince(t.Context(), "wh-a")
	if err != nil {
		t.Fatal(err)
	}
	return since
}

// testWebhookEndpointFailingSince: an endpoint's run of failures begins
// at the first failed attempt after a success, whatever the delivery's
// own age (a redelivered old one included), or after the endpoint was
// enabled again; a success ends it; an attempt recorded again changes
// nothing; an endpoint the dispatcher does not know has none.
func testWebhookEndpointFailingSince(t *testing.T, newStore Opener[WebhookDeliveryStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	ep := eventstore.WebhookEndpoint{WebhookID: "wh-a", TenantID: "tenant-1", Events: []string{"task.*"}, Active: true}
	var ds []eventstore.WebhookDelivery
	for i := range 5 {
		ds = append(ds, newDelivery("wh-a", int64(i), baseTime))
	}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 5, []eventstore.WebhookEndpoint{ep}, ds); err != nil {
		t.Fatal(err)
	}
	if since, err := s.WebhookEndpointFailingSince(ctx, "wh-a"); err != nil || !since.IsZero() {
		t.Fatalf("before any attempt: failing since %v, %v; want zero", since, err)
	}
	day := 24 * time.Hour
	if since := record(t, s, ds[0].ID, 1, baseTime.Add(time.Minute), 500); !since.Equal(domain.NormalizeTime(baseTime.Add(time.Minute))) {
		t.Fatalf("after a first failure: failing since %v, want its time", since)
	}
	if since := record(t, s, ds[1].ID, 1, baseTime.Add(day), 0); !since.Equal(domain.NormalizeTime(baseTime.Add(time.Minute))) {
		t.Fatalf("after a second failure: failing since %v, want the first's time", since)
	}
	if since := record(t, s, ds[2].ID, 1, baseTime.Add(2*day), 204); !since.IsZero() {
		t.Fatalf("after a success: failing since %v, want zero", since)
	}
	// An attempt recorded again (a retried record) changes nothing.
	if since := record(t, s, ds[1].ID, 1, baseTime.Add(3*day), 0); !since.IsZero() {
		t.Fatalf("an attempt recorded again: failing since %v, want zero still", since)
	}
	// The oldest delivery, redelivered days later, fails: the run starts
	// now, not when that delivery was made.
	later := baseTime.Add(6 * day)
	if since := record(t, s, ds[0].ID, 2, later, 500); !since.Equal(domain.NormalizeTime(later)) {
		t.Fatalf("a redelivered old delivery failing after a success: failing since %v, want %v", since, later)
	}
	// Enabled again after that run began: the next failure begins a new
	// run, and the one after continues it.
	enabled := later.Add(time.Hour)
	if since := recordEnabled(t, s, ds[3].ID, 1, enabled.Add(time.Minute), 500, enabled); !since.Equal(domain.NormalizeTime(enabled.Add(time.Minute))) {
		t.Fatalf("the first failure after being enabled again: failing since %v, want its own time", since)
	}
	if since := recordEnabled(t, s, ds[4].ID, 1, enabled.Add(time.Hour), 500, enabled); !since.Equal(domain.NormalizeTime(enabled.Add(time.Minute))) {
		t.Fatalf("the second failure after being enabled again: failing since %v, want the first's", since)
	}
	if since, err := s.WebhookEndpointFailingSince(ctx, "wh-unknown"); err != nil || !since.IsZero() {
		t.Fatalf("an endpoint the dispatcher does not know: %v, %v; want zero", since, err)
	}
}

// testWebhookRedeliveryBesideOneInFlight: an endpoint has one request out
// at a time, a redelivery included. An older delivery redelivered while a
// newer one is in flight waits for it; the one in flight keeps its claim
// and is not counted as redelivered.
func testWebhookRedeliveryBesideOneInFlight(t *testing.T, newStore Opener[WebhookDeliveryStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	ds := []eventstore.WebhookDelivery{newDelivery("wh-a", 0, baseTime), newDelivery("wh-a", 1, baseTime)}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 2, nil, ds); err != nil {
		t.Fatal(err)
	}
	claimIDs(t, s, baseTime)
	record(t, s, ds[0].ID, 1, baseTime, 204)
	if got := claimIDs(t, s, baseTime); !slices.Equal(got, []string{ds[1].ID}) {
		t.Fatalf("claimed %v, want the second delivery", got)
	}
	// The second is in flight (its claim holds for a minute).
	now := baseTime.Add(time.Second)
	if n, err := s.WebhookDeliveryRetry(ctx, "wh-a", "", baseTime, now); err != nil || n != 1 {
		t.Fatalf("redelivering every delivery with one in flight: %d, %v; want 1 (the one in flight is being delivered)", n, err)
	}
	if got := claimIDs(t, s, now); len(got) != 0 {
		t.Fatalf("claimed %v beside the delivery in flight", got)
	}
	record(t, s, ds[1].ID, 1, now, 204)
	if got := claimIDs(t, s, now); !slices.Equal(got, []string{ds[0].ID}) {
		t.Fatalf("after the delivery in flight ended: %v, want the redelivered first", got)
	}
}

// testWebhookDeliveryClaimConcurrent: of concurrent claims, exactly one
// gets each delivery.
func testWebhookDeliveryClaimConcurrent(t *testing.T, newStore Opener[WebhookDeliveryStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	var ds []eventstore.WebhookDelivery
	for i := range 20 {
		ds = append(ds, newDelivery(fmt.Sprintf("wh-%02d", i), int64(i), baseTime))
	}
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 20, nil, ds); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.WebhookDeliveryClaim(ctx, baseTime, baseTime.Add(time.Minute), 5)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range got {
				seen[d.ID]++
			}
		}()
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d of 20 deliveries claimed by 8 claims of 5", len(seen))
	}
}

// testWebhookDeliveryPrune: deliveries that ended before the cutoff go,
// with their attempts, tenant by tenant; pending ones and newer ones stay.
func testWebhookDeliveryPrune(t *testing.T, newStore Opener[WebhookDeliveryStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	ds := []eventstore.WebhookDelivery{newDelivery("wh-a", 0, baseTime), newDelivery("wh-a", 1, baseTime), newDelivery("wh-b", 2, baseTime)}
	ds[2].TenantID = "tenant-2"
	if err := s.WebhookDispatchApply(ctx, dispatchName, 0, 3, nil, ds); err != nil {
		t.Fatal(err)
	}
	for _, d := range []eventstore.WebhookDelivery{ds[0], ds[2]} { // wh-a's first and wh-b's end; wh-a's second stays pending
		claimIDs(t, s, baseTime)
		if err := s.WebhookDeliveryRecord(ctx, eventstore.WebhookAttempt{DeliveryID: d.ID, Attempt: 1, At: baseTime, StatusCode: 204}, eventstore.DeliverySucceeded, baseTime, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if tenants, err := s.WebhookDeliveryTenantsEnded(ctx, baseTime.Add(time.Second), "", 10); err != nil || !slices.Equal(tenants, []string{"tenant-1", "tenant-2"}) {
		t.Fatalf("tenants with ended deliveries: %v, %v", tenants, err)
	}
	if tenants, _ := s.WebhookDeliveryTenantsEnded(ctx, baseTime, "", 10); len(tenants) != 0 {
		t.Fatalf("tenants with deliveries ended before they did: %v", tenants)
	}
	if n, err := s.WebhookDeliveryPrune(ctx, "tenant-1", baseTime.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("pruning tenant-1: %d, %v; want its one ended delivery", n, err)
	}
	left, err := s.WebhookDeliveryList(ctx, "wh-a", 1<<62, 10)
	if err != nil || len(left) != 1 || left[0].State != eventstore.DeliveryPending {
		t.Fatalf("wh-a after the prune: %+v, %v; want its pending delivery only", left, err)
	}
	if a, _ := s.WebhookAttemptList(ctx, []string{ds[0].ID, ds[2].ID}); len(a[ds[0].ID]) != 0 || len(a[ds[2].ID]) != 1 {
		t.Fatalf("attempts after the prune: %+v; want the pruned delivery's gone, the other tenant's kept", a)
	}
}
