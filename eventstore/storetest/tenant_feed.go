package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
)

// tenantFeedIndexer is a store whose tenant feed needs an index kept by a
// projection runner (Postgres); the suite catches it up before it reads.
type tenantFeedIndexer interface {
	TenantFeedIndex() projections.Projection
}

// tenantFeedPage reads a page of q and fails the test on an error.
func tenantFeedPage(t *testing.T, s TenantFeedStore, q eventstore.TenantFeedQuery) []domain.Event {
	t.Helper()
	if idx, ok := s.(tenantFeedIndexer); ok {
		r, err := projections.NewRunner(s, idx.TenantFeedIndex(), projections.RunnerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.CatchUp(t.Context()); err != nil {
			t.Fatalf("catch up the tenant feed index: %v", err)
		}
	}
	page, err := s.TenantFeedRead(t.Context(), q)
	if err != nil {
		t.Fatalf("TenantFeedRead(%+v): %v", q, err)
	}
	return page
}

// testTenantFeed: a tenant's slice holds its events only, in position
// order, pages resume after a position without a gap or a repeat, and the
// filters keep what they name.
func testTenantFeed(t *testing.T, newStore Opener[TenantFeedStore]) {
	s := newStore(t, eventstore.Options{})
	mine, theirs := newStream(), newStream()
	theirs.TenantID = "other-tenant"
	for i := range 5 {
		appendOK(t, s, mine, int64(2*i), outputEvents(2*i, 2))
		appendOK(t, s, theirs, int64(i), outputEvents(i, 1))
	}
	var want []domain.Event
	for _, e := range readFeed(t, s, 15) {
		if e.TenantID == tenant {
			want = append(want, e)
		}
	}
	var got []domain.Event
	for after := int64(-1); ; {
		page := tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: tenant, After: after, Limit: 3})
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Position
	}
	checkEvents(t, "the tenant's feed, page by page", got, want)
	if other := tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: "other-tenant", After: -1}); len(other) != 5 || slices.ContainsFunc(other, func(e domain.Event) bool { return e.TenantID != "other-tenant" }) {
		t.Errorf("the other tenant's feed holds %d events, or some not its own", len(other))
	}
	if none := tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: tenant, After: -1, StreamTypes: []domain.StreamType{domain.StreamTenant}}); len(none) != 0 {
		t.Errorf("stream_type tenant kept %d task events", len(none))
	}
	if typed := tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: tenant, After: -1, Types: []domain.EventType{domain.TaskOutputType}}); len(typed) != len(want) {
		t.Errorf("type task.output kept %d of %d events", len(typed), len(want))
	}
	if none := tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: tenant, After: -1, Types: []domain.EventType{domain.TaskSucceededType}}); len(none) != 0 {
		t.Errorf("type task.succeeded kept %d output events", len(none))
	}
	for field, q := range map[string]eventstore.TenantFeedQuery{
		"after":       {TenantID: tenant, After: -2},
		"stream_type": {TenantID: tenant, After: -1, StreamTypes: []domain.StreamType{"nope"}},
		"type":        {TenantID: tenant, After: -1, Types: []domain.EventType{"nope"}},
	} {
		_, err := s.TenantFeedRead(t.Context(), q)
		checkValidation(t, err, field)
	}
}

// testTenantFeedWait: TenantFeedWait blocks while the slices hold nothing
// at the position it waits for, returns once an event there is final (and
// a read then sees it), and returns ctx's error when ctx ends first.
func testTenantFeedWait(t *testing.T, newStore Opener[TenantFeedStore]) {
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	appendOK(t, s, stream, 0, outputEvents(0, 1))
	waitFeedLen(t, s, 1)
	tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: tenant, After: -1}) // indexed
	head, err := s.TenantFeedHead(t.Context())
	if err != nil || head != 1 {
		t.Fatalf("TenantFeedHead after one event = %d, %v; want 1", head, err)
	}
	if err := s.TenantFeedWait(t.Context(), head-1); err != nil {
		t.Fatalf("TenantFeedWait for a final position: %v", err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.TenantFeedWait(canceled, head); !errors.Is(err, context.Canceled) {
		t.Fatalf("TenantFeedWait with an ended context returned %v, want context.Canceled", err)
	}

	waiting := make(chan struct{})
	woke := make(chan error, 1)
	go func() {
		close(waiting)
		woke <- s.TenantFeedWait(t.Context(), head)
	}()
	<-waiting
	appendOK(t, s, stream, 1, outputEvents(1, 1))
	waitFeedLen(t, s, 2)
	page := tenantFeedPage(t, s, eventstore.TenantFeedQuery{TenantID: tenant, After: head - 1})
	if err := <-woke; err != nil {
		t.Fatalf("TenantFeedWait(%d) after an append: %v", head, err)
	}
	if len(page) != 1 || page[0].Position != head {
		t.Fatalf("after the wait, the slice after %d holds %d events, want the one at %d", head-1, len(page), head)
	}
	if h, err := s.TenantFeedHead(t.Context()); err != nil || h <= head {
		t.Fatalf("TenantFeedHead after the wait = %d, %v; want above %d", h, err, head)
	}
}
