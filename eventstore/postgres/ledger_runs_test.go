package postgres

import (
	"context"
	"testing"
)

// The ledger stores runs of events; reading the feed from any position,
// in the middle of a run or not, with any page size, gives exactly the
// matching slice of the whole feed, and a stream read agrees on positions.
func TestFeedPagesAcrossLedgerRuns(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{})
	ctx := context.Background()
	a, b := taskStream("t"), taskStream("t")
	var seqA, seqB int64
	for i, n := range []int{3, 1, 5, 2, 4, 1, 1, 6} {
		st, seq := a, &seqA
		if i%3 == 1 {
			st, seq = b, &seqB
		}
		if _, err := s.Append(ctx, st, *seq, outputEvents(n, int(*seq))); err != nil {
			t.Fatal(err)
		}
		*seq += int64(n)
	}
	total := seqA + seqB
	waitFeed(t, s, total)
	all := readWholeFeed(t, s)
	if int64(len(all)) != total {
		t.Fatalf("feed has %d events, want %d", len(all), total)
	}
	for from := int64(0); from <= total; from++ {
		for limit := 1; limit <= 7; limit++ {
			page, err := s.ReadFeed(ctx, from, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := all[from:min(total, from+int64(limit))]
			if len(page) != len(want) {
				t.Fatalf("from %d limit %d: %d events, want %d", from, limit, len(page), len(want))
			}
			for i := range page {
				if page[i].EventID != want[i].EventID || page[i].Position != from+int64(i) {
					t.Fatalf("from %d limit %d: event %d differs", from, limit, i)
				}
			}
		}
	}
	byID := map[string]int64{}
	for _, e := range all {
		byID[e.EventID.String()] = e.Position
	}
	for _, st := range []string{a.ID, b.ID} {
		events, err := s.ReadStream(ctx, st, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Position != byID[e.EventID.String()] {
				t.Fatalf("stream %s seq %d: position %d, feed says %d", st, e.Seq, e.Position, byID[e.EventID.String()])
			}
		}
	}
	assertStreamsInOrder(t, all)
}
