package postgres

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// TestAppendBatchRetryInAnotherProcess: a batch of new streams committed
// by one process and sent again by another (a client's retry that reaches
// another API process, or the same process after a restart) knows none of
// the streams' heads, so each part's insert finds its stream not new. It
// is a retry all the same: it returns the stored events.
func TestAppendBatchRetryInAnotherProcess(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	other := openStoreAt(t, url, Config{DisableSealer: true})
	ctx := context.Background()
	parts := make([]eventstore.StreamAppend, 3)
	for i := range parts {
		stream := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "t"}
		parts[i] = eventstore.StreamAppend{Stream: stream, Events: outputEvents(2, 0)}
	}
	first, err := s.AppendBatch(ctx, parts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := other.AppendBatch(ctx, parts)
	if err != nil {
		t.Fatalf("the batch retried by another process: %v", err)
	}
	for i := range parts {
		if len(again[i]) != 2 || again[i][1].EventID != first[i][1].EventID || again[i][1].Seq != 2 {
			t.Fatalf("part %d of the retried batch: %+v, want the stored events", i, again[i])
		}
	}
}
