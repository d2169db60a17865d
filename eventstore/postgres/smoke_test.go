package postgres

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	s, _ := openStore(t, Config{})
	ctx := context.Background()
	st := taskStream("tenant-1")
	got, err := s.Append(ctx, st, 0, outputEvents(3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, st, 3, outputEvents(2, 3)); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, s, 5)
	feed := readWholeFeed(t, s)
	if len(feed) != 5 || feed[0].EventID != got[0].EventID {
		t.Fatalf("feed = %d events", len(feed))
	}
	for i, e := range feed {
		if e.Position != int64(i) || e.Seq != int64(i+1) {
			t.Fatalf("event %d: position %d seq %d", i, e.Position, e.Seq)
		}
	}
	if _, err := s.Append(ctx, st, 3, outputEvents(1, 5)); err == nil {
		t.Fatal("expected conflict")
	} else {
		t.Log(err)
	}
}
