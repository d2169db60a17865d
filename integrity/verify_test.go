package integrity_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

const (
	streamA = "task-aaaa"
	streamB = "task-bbbb"
)

// interleaved builds two task streams whose events interleave as in the
// global feed: A1 B1 A2 A3 B2 A4 B3 at positions 0 … 6.
func interleaved(t testing.TB) []domain.Event {
	c := newChain()
	return []domain.Event{
		c.add(t, streamA, domain.TaskCreatedType, `{"name":"a","adapter":"mock","args":{},"timeout_s":60}`),
		c.add(t, streamB, domain.TaskCreatedType, `{"name":"b","adapter":"mock","args":{},"timeout_s":60}`),
		c.add(t, streamA, domain.TaskQueuedType, `{"attempt":1}`),
		c.add(t, streamA, domain.TaskStartedType, `{"worker_id":"w1","attempt":1}`),
		c.add(t, streamB, domain.TaskQueuedType, `{"attempt":1}`),
		c.add(t, streamA, domain.TaskOutputType, `{"stream":"stdout","data":"hello\n","offset":0}`),
		c.add(t, streamB, domain.TaskCanceledType, `{"reason":"user"}`),
	}
}

// Indexes of the interleaved events.
const (
	iA1 = iota
	iB1
	iA2
	iA3
	iB2
	iA4
	iB3
)

// renumber gives the events dense positions from 0 again, as a forger
// hiding a reordering would.
func renumber(events []domain.Event) []domain.Event {
	for i := range events {
		events[i].Position = int64(i)
	}
	return events
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	type want struct {
		kind   integrity.Kind
		index  int64
		stream string
		seq    int64
		phrase string
	}
	tests := []struct {
		name   string
		tamper func(ev []domain.Event) []domain.Event
		// setup prepares the verifier, given the untampered events.
		setup func(t *testing.T, v *integrity.Verifier, ev []domain.Event)
		want  *want // nil: the log verifies
	}{
		{name: "valid interleaved streams", tamper: func(ev []domain.Event) []domain.Event { return ev }},
		{name: "valid without positions", tamper: func(ev []domain.Event) []domain.Event {
			for i := range ev {
				ev[i].Position = domain.NoPosition
			}
			return ev
		}},
		{name: "pruned payload still verifies", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].Payload, ev[iA2].PayloadSalt = nil, nil
			return ev
		}},
		{name: "edit payload", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].Payload = []byte(`{"attempt":2}`)
			return ev
		}, want: &want{integrity.WrongDigest, iA2, streamA, 2, "payload or its salt was changed"}},
		{name: "edit salt", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].PayloadSalt = slices.Clone(ev[iA3].PayloadSalt)
			return ev
		}, want: &want{integrity.WrongDigest, iA2, streamA, 2, "payload_digest"}},
		{name: "edit payload and its digest", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].Payload = []byte(`{"attempt":2}`)
			ev[iA2].PayloadDigest = integrity.PayloadDigest(ev[iA2].PayloadSalt, ev[iA2].Payload)
			return ev
		}, want: &want{integrity.WrongHash, iA2, streamA, 2, "not SHA-256 of the event's entry"}},
		{name: "edit payload, digest and hash", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].Payload = []byte(`{"attempt":2}`)
			ev[iA2].PayloadDigest = integrity.PayloadDigest(ev[iA2].PayloadSalt, ev[iA2].Payload)
			rehash(&ev[iA2])
			return ev
		}, want: &want{integrity.BrokenLink, iA3, streamA, 3, "chain is broken"}},
		{name: "edit hash", tamper: func(ev []domain.Event) []domain.Event {
			ev[iB2].Hash[0] ^= 1
			return ev
		}, want: &want{integrity.WrongHash, iB2, streamB, 2, "hash"}},
		{name: "edit occurred_at", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA3].OccurredAt = ev[iA3].OccurredAt.Add(-1e3)
			return ev
		}, want: &want{integrity.WrongHash, iA3, streamA, 3, "occurred_at"}},
		{name: "delete event", tamper: func(ev []domain.Event) []domain.Event {
			return renumber(slices.Delete(ev, iA2, iA2+1))
		}, want: &want{integrity.SeqGap, iA3 - 1, streamA, 3, "seq 2 is missing from the stream"}},
		{name: "delete two events", tamper: func(ev []domain.Event) []domain.Event {
			return renumber(slices.Delete(ev, iA2, iA3+1))
		}, want: &want{integrity.SeqGap, iA4 - 2, streamA, 4, "seqs 2 to 3 are missing"}},
		{name: "delete first event", tamper: func(ev []domain.Event) []domain.Event {
			return renumber(ev[1:])
		}, want: &want{integrity.BadStart, iA2 - 1, streamA, 2, "a stream starts at seq 1"}},
		{name: "swap two events of a stream", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2], ev[iA3] = ev[iA3], ev[iA2]
			return ev
		}, want: &want{integrity.SeqGap, iA2, streamA, 3, "out of order"}},
		{name: "swap events of two streams", tamper: func(ev []domain.Event) []domain.Event {
			ev[iB2], ev[iA4] = ev[iA4], ev[iB2]
			return ev
		}, want: &want{integrity.FeedOrder, iA4, streamB, 2, "position 4 does not follow position 5"}},
		{name: "repeat an event", tamper: func(ev []domain.Event) []domain.Event {
			return renumber(slices.Insert(ev, iA3, ev[iA2]))
		}, want: &want{integrity.SeqOrder, iA3, streamA, 2, "repeated"}},
		{name: "change prev", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA3].HashPrev[5] ^= 0x10
			rehash(&ev[iA3])
			return ev
		}, want: &want{integrity.BrokenLink, iA3, streamA, 3, "hash_prev"}},
		{name: "replace event by a forged one", tamper: func(ev []domain.Event) []domain.Event {
			forged := ev[iA3]
			forged.Payload = []byte(`{"attempt":1,"worker_id":"evil"}`)
			forged.PayloadDigest = integrity.PayloadDigest(forged.PayloadSalt, forged.Payload)
			rehash(&forged)
			ev[iA3] = forged
			return ev
		}, want: &want{integrity.BrokenLink, iA4, streamA, 4, "hash_prev"}},
		{name: "insert foreign event", tamper: func(ev []domain.Event) []domain.Event {
			other := newChain()
			other.add(t, streamB, domain.TaskCreatedType, `{"name":"other"}`)
			foreign := other.add(t, streamB, domain.TaskFailedType, `{"error":"forged"}`)
			// It takes B2's place; B2 and B3 are dropped so only the link shows it.
			ev[iB2] = foreign
			return renumber(slices.Delete(ev, iB3, iB3+1))
		}, want: &want{integrity.BrokenLink, iB2, streamB, 2, "does not belong here"}},
		{name: "first event with non-zero prev", tamper: func(ev []domain.Event) []domain.Event {
			ev[iB1].HashPrev = ev[iA1].Hash
			rehash(&ev[iB1])
			return ev
		}, want: &want{integrity.BadStart, iB1, streamB, 1, "64 zeros"}},
		{name: "payload pruned without its salt", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].Payload = nil
			return ev
		}, want: &want{integrity.InvalidField, iA2, streamA, 2, "pruned together"}},
		{name: "short salt", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].PayloadSalt = ev[iA2].PayloadSalt[:16]
			return ev
		}, want: &want{integrity.InvalidField, iA2, streamA, 2, "payload_salt holds 16 bytes"}},
		{name: "control character in stream id", tamper: func(ev []domain.Event) []domain.Event {
			for _, i := range []int{iB1, iB2, iB3} {
				ev[i].StreamID = "task-bbbb\naxontask-event/v1"
			}
			return ev
		}, want: &want{integrity.InvalidField, iB1, "task-bbbb\naxontask-event/v1", 1, "control character U+000A"}},
		{name: "control character in type", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA3].Type = "task.started\x7f"
			rehash(&ev[iA3])
			return ev
		}, want: &want{integrity.InvalidField, iA3, streamA, 3, "type contains control character U+007F"}},
		{name: "empty tenant", tamper: func(ev []domain.Event) []domain.Event {
			ev[iB1].TenantID = ""
			return ev
		}, want: &want{integrity.InvalidField, iB1, streamB, 1, "tenant_id must not be empty"}},
		{name: "tenant changes within a stream", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA3].TenantID = "tenant-other"
			return ev
		}, want: &want{integrity.InvalidField, iA3, streamA, 3, "differ from the stream's earlier events"}},
		{name: "seq zero", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA1].Seq = 0
			return ev
		}, want: &want{integrity.InvalidField, iA1, streamA, 0, "seq must be 1 or more"}},
		{name: "nil event id", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].EventID = [16]byte{}
			return ev
		}, want: &want{integrity.InvalidField, iA2, streamA, 2, "nil UUID"}},
		{name: "year 10000", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].OccurredAt = ev[iA2].OccurredAt.AddDate(8000, 0, 0)
			return ev
		}, want: &want{integrity.InvalidField, iA2, streamA, 2, "0000–9999"}},
		{name: "negative position", tamper: func(ev []domain.Event) []domain.Event {
			ev[iA2].Position = -7
			return ev
		}, want: &want{integrity.InvalidField, iA2, streamA, 2, "position -7 is negative"}},
		{name: "stream tail removed, positions checked only for order", tamper: func(ev []domain.Event) []domain.Event {
			return slices.Delete(ev, iA4, iA4+1)
		}},
		{name: "stream tail removed from a dense feed", tamper: func(ev []domain.Event) []domain.Event {
			return slices.Delete(ev, iA4, iA4+1)
		}, setup: dense, want: &want{integrity.FeedGap, iA4, streamB, 3, "the feed event at position 5 is missing"}},
		{name: "position missing from a dense feed", tamper: func(ev []domain.Event) []domain.Event {
			ev[iB2].Position = domain.NoPosition
			return ev
		}, setup: dense, want: &want{integrity.FeedGap, iB2, streamB, 2, "no feed position"}},
		{name: "dense feed window need not start at 0", tamper: func(ev []domain.Event) []domain.Event {
			for i := range ev {
				ev[i].Position += 1000
			}
			return ev
		}, setup: dense},
		{name: "suffix from trusted heads", tamper: func(ev []domain.Event) []domain.Event {
			return ev[iA3:]
		}, setup: func(t *testing.T, v *integrity.Verifier, ev []domain.Event) {
			trust(t, v, streamA, 2, ev[iA2].Hash)
			trust(t, v, streamB, 1, ev[iB1].Hash)
		}},
		{name: "suffix without trusted heads", tamper: func(ev []domain.Event) []domain.Event {
			return ev[iA3:]
		}, want: &want{integrity.BadStart, 0, streamA, 3, "seqs 1 to 2 are missing (to verify only the later events, trust the head at seq 2)"}},
		{name: "suffix from a wrong trusted hash", tamper: func(ev []domain.Event) []domain.Event {
			return ev[iA3:]
		}, setup: func(t *testing.T, v *integrity.Verifier, ev []domain.Event) {
			trust(t, v, streamA, 2, ev[iA1].Hash)
		}, want: &want{integrity.BadStart, 0, streamA, 3, "does not continue the trusted chain"}},
		{name: "suffix from a wrong trusted seq", tamper: func(ev []domain.Event) []domain.Event {
			return ev[iA3:]
		}, setup: func(t *testing.T, v *integrity.Verifier, ev []domain.Event) {
			trust(t, v, streamA, 1, ev[iA2].Hash)
		}, want: &want{integrity.BadStart, 0, streamA, 3, "must be 2 to follow the trusted head at seq 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events := tt.tamper(interleaved(t))
			v := integrity.NewVerifier()
			if tt.setup != nil {
				tt.setup(t, v, interleaved(t))
			}
			var err error
			for i := range events {
				if err = v.Add(&events[i]); err != nil {
					break
				}
			}
			_, doneErr := v.Done()
			if doneErr != err { //nolint:errorlint // the very same error value, not one that wraps it
				t.Errorf("Done returned %v, Add %v", doneErr, err)
			}
			if tt.setup == nil && fmt.Sprint(integrity.Verify(events)) != fmt.Sprint(err) {
				t.Errorf("Verify disagrees with the Verifier")
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("a valid log fails: %v", err)
				}
				return
			}
			var ve *integrity.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *VerifyError of kind %s", err, tt.want.kind)
			}
			got := want{ve.Kind, ve.Index, ve.StreamID, ve.Seq, tt.want.phrase}
			if got != *tt.want || !strings.Contains(ve.Error(), tt.want.phrase) {
				t.Errorf("got %+v: %v\nwant %+v", got, err, *tt.want)
			}
			if ve.Position != events[ve.Index].Position {
				t.Errorf("error names position %d, the event has %d", ve.Position, events[ve.Index].Position)
			}
			// The first failure sticks.
			if again := v.Add(&events[0]); again != err { //nolint:errorlint // the very same error value
				t.Errorf("Add after a failure returned %v, want the first failure", again)
			}
		})
	}
}

func dense(_ *testing.T, v *integrity.Verifier, _ []domain.Event) { v.RequireDenseFeed() }

func trust(t *testing.T, v *integrity.Verifier, stream string, seq int64, hash domain.Hash) {
	t.Helper()
	if err := v.Trust(stream, seq, hash); err != nil {
		t.Fatalf("Trust: %v", err)
	}
}

func TestVerifyErrorMessage(t *testing.T) {
	t.Parallel()
	events := interleaved(t)
	events[iA2].Payload = []byte(`{"attempt":9}`)
	err := integrity.Verify(events)
	const want = `event #3 (stream "task-aaaa", seq 2, position 2) fails verification: payload_digest `
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("message %q, want it to start with %q", err, want)
	}
	events[iA2].Position = domain.NoPosition
	if err := integrity.Verify(events); strings.Contains(err.Error(), "position") {
		t.Errorf("message %q names a position the event lacks", err)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for k := integrity.InvalidField; k <= integrity.WrongHash; k++ {
		s := k.String()
		if s == "" || strings.HasPrefix(s, "kind(") || seen[s] {
			t.Errorf("kind %d has name %q", int(k), s)
		}
		seen[s] = true
	}
	if got := integrity.Kind(99).String(); got != "kind(99)" {
		t.Errorf("unknown kind renders as %q", got)
	}
	if b, _ := integrity.BrokenLink.MarshalText(); string(b) != "broken_link" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestSummaryHeadsContinueVerification(t *testing.T) {
	t.Parallel()
	events := interleaved(t)
	first := integrity.NewVerifier()
	for i := range events[:iB2] {
		if err := first.Add(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := first.Done()
	if err != nil {
		t.Fatal(err)
	}
	want := integrity.Summary{
		Events: 4, FirstPosition: 0, LastPosition: 3,
		Streams: []integrity.StreamSummary{
			{StreamID: streamA, StreamType: domain.StreamTask, TenantID: "tenant-acme", Events: 3, FirstSeq: 1, HeadSeq: 3, HeadHash: events[iA3].Hash},
			{StreamID: streamB, StreamType: domain.StreamTask, TenantID: "tenant-acme", Events: 1, FirstSeq: 1, HeadSeq: 1, HeadHash: events[iB1].Hash},
		},
	}
	if !equalSummary(sum, want) {
		t.Fatalf("summary %+v\nwant %+v", sum, want)
	}
	next := integrity.NewVerifier()
	next.RequireDenseFeed()
	for _, s := range sum.Streams {
		trust(t, next, s.StreamID, s.HeadSeq, s.HeadHash)
	}
	for i := range events[iB2:] {
		if err := next.Add(&events[iB2+i]); err != nil {
			t.Fatal(err)
		}
	}
	sum, err = next.Done()
	if err != nil || sum.Events != 3 || sum.Streams[0].FirstSeq != 4 || sum.Streams[0].HeadHash != events[iA4].Hash || sum.FirstPosition != 4 {
		t.Fatalf("continuation: %+v, %v", sum, err)
	}
	if err := next.Trust(streamA, 1, events[iA1].Hash); err == nil {
		t.Error("Trust accepted a stream that already has a head")
	}
}

func equalSummary(a, b integrity.Summary) bool {
	return a.Events == b.Events && a.FirstPosition == b.FirstPosition && a.LastPosition == b.LastPosition && slices.Equal(a.Streams, b.Streams)
}

func TestTrustRejectsBadHeads(t *testing.T) {
	t.Parallel()
	var someHash domain.Hash
	someHash[0] = 1
	for _, tt := range []struct {
		stream string
		seq    int64
		hash   domain.Hash
	}{
		{"", 1, someHash},
		{"task\n", 1, someHash},
		{streamA, -1, someHash},
		{streamA, 0, someHash},
	} {
		if err := integrity.NewVerifier().Trust(tt.stream, tt.seq, tt.hash); err == nil {
			t.Errorf("Trust(%q, %d) accepted", tt.stream, tt.seq)
		}
	}
	if err := integrity.NewVerifier().Trust(streamA, 0, domain.ZeroHash); err != nil {
		t.Errorf("Trust of the origin: %v", err)
	}
}

func TestVerifierAddDoesNotAllocate(t *testing.T) {
	events := manyEvents(t, 2000, 10)
	v := integrity.NewVerifier()
	next := 0
	add := func() {
		if err := v.Add(&events[next]); err != nil {
			t.Fatal(err)
		}
		next++
	}
	for range 100 { // every stream has a head by now
		add()
	}
	if allocs := testing.AllocsPerRun(1000, add); allocs != 0 {
		t.Errorf("Add allocates %.2f times per event, want 0", allocs)
	}
}
