package postgres

import (
	"errors"
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// TestReadStreamRemembersTheHead: a read leaves its last event as the
// stream's head in the store's cache, so that the append that follows (a
// worker's claim after catching up) chains to it without reading it
// again; when another process appended meanwhile, that append is a
// conflict, and the chain stays whole.
func TestReadStreamRemembersTheHead(t *testing.T) {
	t.Parallel()
	a, url := openStore(t, Config{})
	b := openStoreAt(t, url, Config{})
	ctx := t.Context()
	stream := taskStream("t")
	if _, err := a.Append(ctx, stream, 0, outputEvents(2, 0)); err != nil {
		t.Fatal(err)
	}
	read, err := b.ReadStream(ctx, stream.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := b.heads.get(stream.ID); !ok || h.Seq != 2 || h.Hash != read[1].Hash || h.TenantID != "t" || h.StreamType != stream.Type {
		t.Fatalf("the cached head after the read: %+v (%v), want seq 2 and the read's last hash", h, ok)
	}
	if _, err := b.ReadStream(ctx, stream.ID, 0, 1); err != nil {
		t.Fatal(err)
	}
	if h, _ := b.heads.get(stream.ID); h.Seq != 2 {
		t.Fatalf("a shorter read took the cached head back to seq %d", h.Seq)
	}
	if _, err := a.Append(ctx, stream, 2, outputEvents(1, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, stream, 2, outputEvents(1, 9)); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("an append chained to a head another process moved: %v, want a conflict", err)
	}
	if _, err := b.Append(ctx, stream, 3, outputEvents(1, 3)); err != nil {
		t.Fatal(err)
	}
	all, err := a.ReadStream(ctx, stream.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("%d events, want 4", len(all))
	}
	if err := integrity.Verify(all); err != nil {
		t.Fatal(err)
	}
}
