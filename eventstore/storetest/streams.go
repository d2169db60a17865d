package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// otherTenant owns the streams that tenant must never see.
const otherTenant = "tenant-b"

// createStream appends events to a new stream of the given type and tenant
// (the store does not tie event types to stream types, so task.output
// events serve every type).
func createStream(t *testing.T, s eventstore.Store, id string, typ domain.StreamType, tenantID string, events int) eventstore.Stream {
	t.Helper()
	stream := eventstore.Stream{ID: id, Type: typ, TenantID: tenantID}
	appendOK(t, s, stream, 0, outputEvents(0, events))
	return stream
}

// listStreams lists and fails the test on an error.
func listStreams(t *testing.T, s eventstore.Store, tenantID string, typ domain.StreamType, after string, limit int) []string {
	t.Helper()
	ids, err := s.ListStreams(t.Context(), tenantID, typ, after, limit)
	return listOK(t, fmt.Sprintf("ListStreams(%s, %s, after %q, limit %d)", tenantID, typ, after, limit), ids, err)
}

// checkIDs fails unless got equals want, in order.
func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// testListStreams: a tenant's streams of one type, in byte order, paged
// with afterStreamID; never another tenant's streams or another type's.
func testListStreams(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	// Byte order, not a locale's: upper case before "_" before lower case,
	// multi-byte UTF-8 last.
	keys := []string{"key-a", "key-B", "key-é", "key-_", "key-10", "key-9", "key-Z", "key-a-2"}
	for i, id := range keys {
		createStream(t, s, id, domain.StreamAPIKey, tenant, 1+i%3) // streams of several events are listed once
	}
	createStream(t, s, "key-C", domain.StreamAPIKey, otherTenant, 1) // sorts among tenant's keys
	createStream(t, s, "key-0", domain.StreamAPIKey, otherTenant, 2)
	users := []string{"user-2", "user-1"}
	for _, id := range users {
		createStream(t, s, id, domain.StreamUser, tenant, 2)
	}
	createStream(t, s, "key-b-task", domain.StreamTask, tenant, 2) // a task id among the keys
	createStream(t, s, "tenant-a", domain.StreamTenant, tenant, 1)

	want := slices.Clone(keys)
	slices.Sort(want) // Go compares strings bytewise
	checkIDs(t, "ListStreams(api keys, from the start)", listStreams(t, s, tenant, domain.StreamAPIKey, "", 0), want)
	if want[0] != "key-10" || want[len(want)-1] != "key-é" {
		t.Fatalf("test bug: byte order of %q", want)
	}

	// Paging: every limit, each page strictly after the last id of the one before.
	for limit := 1; limit <= len(want)+1; limit++ {
		var all []string
		after := ""
		for page := 0; ; page++ {
			if page > len(want) {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			ids := listStreams(t, s, tenant, domain.StreamAPIKey, after, limit)
			if len(ids) > limit {
				t.Fatalf("ListStreams(after %q, limit %d) returned %d ids", after, limit, len(ids))
			}
			if len(ids) == 0 {
				break
			}
			all = append(all, ids...)
			after = ids[len(ids)-1]
		}
		checkIDs(t, fmt.Sprintf("the pages of limit %d", limit), all, want)
	}

	// afterStreamID need not be a listed stream: the page starts after it.
	for _, tc := range []struct {
		after string
		want  []string
	}{
		{"key-C", []string{"key-Z", "key-_", "key-a"}},       // another tenant's key
		{"key-a", []string{"key-a-2", "key-é"}},              // a prefix of the next id
		{"key-b-task", []string{"key-é"}},                    // a task stream
		{"key-", []string{"key-10", "key-9", "key-B"}},       // before every key
		{"key-é", []string{}},                                // the last key
		{"zzz", []string{}},                                  // after every key
		{"KEY-a", []string{"key-10", "key-9", "key-B"}},      // upper case sorts first
		{"key-é-", []string{}},                               // longer than the last key
		{"key-9\u00a0", []string{"key-B", "key-Z", "key-_"}}, // a non-ASCII space
	} {
		checkIDs(t, fmt.Sprintf("ListStreams(after %q, limit 3)", tc.after), listStreams(t, s, tenant, domain.StreamAPIKey, tc.after, 3), tc.want)
	}

	// Type filtering and tenant isolation.
	checkIDs(t, "ListStreams(users)", listStreams(t, s, tenant, domain.StreamUser, "", 0), []string{"user-1", "user-2"})
	checkIDs(t, "ListStreams(tenants)", listStreams(t, s, tenant, domain.StreamTenant, "", 0), []string{"tenant-a"})
	checkIDs(t, "ListStreams(webhooks)", listStreams(t, s, tenant, domain.StreamWebhook, "", 0), []string{})
	checkIDs(t, "ListStreams(the other tenant's api keys)", listStreams(t, s, otherTenant, domain.StreamAPIKey, "", 0), []string{"key-0", "key-C"})
	checkIDs(t, "ListStreams(the other tenant's users)", listStreams(t, s, otherTenant, domain.StreamUser, "", 0), []string{})
	checkIDs(t, "ListStreams(an unknown tenant)", listStreams(t, s, "tenant-unknown", domain.StreamAPIKey, "", 0), []string{})
	checkIDs(t, "ListStreams(a tenant id's prefix)", listStreams(t, s, "tenant-", domain.StreamAPIKey, "", 0), []string{})
}

// testListStreamsReadYourWrites: a stream is listed as soon as the Append
// that created it returns (before any feed position, for a store that
// seals later), and later appends to it do not list it twice.
func testListStreamsReadYourWrites(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	var want []string
	for i := range 10 {
		stream := createStream(t, s, fmt.Sprintf("key-%02d-%s", 10-i, uuid.NewString()), domain.StreamAPIKey, tenant, 1)
		want = append(want, stream.ID)
		slices.Sort(want)
		checkIDs(t, fmt.Sprintf("ListStreams after creating %s", stream.ID), listStreams(t, s, tenant, domain.StreamAPIKey, "", 0), want)
		appendOK(t, s, stream, 1, outputEvents(1, 2))
		checkIDs(t, fmt.Sprintf("ListStreams after appending to %s", stream.ID), listStreams(t, s, tenant, domain.StreamAPIKey, "", 0), want)
	}
}

// testListStreamsLimits: limit <= 0 lists DefaultListStreamsLimit streams,
// limits up to MaxListStreamsLimit are taken as they are, and a larger one
// is a validation error.
func testListStreamsLimits(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{MaxReadLimit: 4}) // MaxReadLimit does not bound ListStreams
	n := eventstore.DefaultListStreamsLimit + 1
	want := make([]string, n)
	for i := range want {
		want[i] = createStream(t, s, fmt.Sprintf("user-%04d", i), domain.StreamUser, tenant, 1).ID
	}
	for _, tc := range []struct{ limit, want int }{
		{0, eventstore.DefaultListStreamsLimit},
		{-1, eventstore.DefaultListStreamsLimit},
		{1, 1},
		{5, 5},
		{n, n},
		{eventstore.MaxListStreamsLimit, n},
	} {
		checkIDs(t, fmt.Sprintf("ListStreams(limit %d)", tc.limit), listStreams(t, s, tenant, domain.StreamUser, "", tc.limit), want[:tc.want])
	}
	_, err := s.ListStreams(t.Context(), tenant, domain.StreamUser, "", eventstore.MaxListStreamsLimit+1)
	checkValidation(t, err, "limit")
}

// testListStreamsValidation: invalid arguments and task streams fail with
// a *domain.ValidationError naming the argument.
func testListStreamsValidation(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	createStream(t, s, "task-1", domain.StreamTask, tenant, 1)
	_, err := s.ListStreams(t.Context(), tenant, domain.StreamTask, "", 10)
	checkValidation(t, err, "stream_type")
	if err != nil && !strings.Contains(err.Error(), "task") {
		t.Errorf("ListStreams(task) error %q does not say that task streams are not listed", err)
	}
	for _, tc := range []struct {
		name     string
		tenantID string
		typ      domain.StreamType
		after    string
		limit    int
		field    string
	}{
		{"empty tenant", "", domain.StreamAPIKey, "", 10, "tenant_id"},
		{"tenant with a control character", "tenant\n", domain.StreamAPIKey, "", 10, "tenant_id"},
		{"tenant too long", strings.Repeat("t", domain.MaxIdentifierLen+1), domain.StreamAPIKey, "", 10, "tenant_id"},
		{"empty stream type", tenant, "", "", 10, "stream_type"},
		{"unknown stream type", tenant, "nope", "", 10, "stream_type"},
		{"after with a control character", tenant, domain.StreamAPIKey, "key\x00", 10, "after_stream_id"},
		{"after not UTF-8", tenant, domain.StreamAPIKey, "key-\xff", 10, "after_stream_id"},
		{"limit too large", tenant, domain.StreamAPIKey, "", eventstore.MaxListStreamsLimit + 1, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, err := s.ListStreams(t.Context(), tc.tenantID, tc.typ, tc.after, tc.limit)
			checkValidation(t, err, tc.field)
			if ids != nil {
				t.Errorf("ListStreams returned %q with its error", ids)
			}
		})
	}
}
