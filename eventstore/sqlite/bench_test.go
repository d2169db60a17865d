package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
)

// benchEvents is a batch of n task.output events of a few lines each.
func benchEvents(n int) []domain.NewEvent {
	events := make([]domain.NewEvent, n)
	for i := range events {
		events[i] = domain.NewEvent{
			EventID:    uuid.New(),
			Type:       domain.TaskOutputType,
			Payload:    fmt.Appendf(nil, `{"stream":"stdout","data":"[%d] compiling package example.com/project/internal/module: ok","offset":%d}`, i, i*64),
			Metadata:   domain.Metadata{Actor: "worker:w1", CorrelationID: "4bf92f3577b34da6a3ce929d0e0e4736"},
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		}
	}
	return events
}

// openBench opens a store in a new file, closed when b ends.
func openBench(b *testing.B) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkAppend measures one append (one durable write transaction) of a
// batch of events to one stream at its head: the writer's hot path.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := openBench(b)
			stream := eventstore.Stream{ID: "task-1", Type: domain.StreamTask, TenantID: "tenant-1"}
			batches := make([][]domain.NewEvent, b.N)
			for i := range batches {
				batches[i] = benchEvents(n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Append(b.Context(), stream, int64(i*n), batches[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkRead measures reading pages of 100 events, from the feed and
// from one stream: the readers' hot paths.
func BenchmarkRead(b *testing.B) {
	const events, page = 10_000, 100
	s := openBench(b)
	stream := eventstore.Stream{ID: "task-1", Type: domain.StreamTask, TenantID: "tenant-1"}
	for seq := int64(0); seq < events; seq += 500 {
		if _, err := s.Append(b.Context(), stream, seq, benchEvents(500)); err != nil {
			b.Fatal(err)
		}
	}
	read := map[string]func(from int64) ([]domain.Event, error){
		"feed": func(from int64) ([]domain.Event, error) { return s.ReadFeed(b.Context(), from, page) },
		"stream": func(from int64) ([]domain.Event, error) {
			return s.ReadStream(b.Context(), stream.ID, from, page)
		},
	}
	for _, name := range []string{"feed", "stream"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				got, err := read[name](int64(i*page) % (events - page))
				if err != nil || len(got) != page {
					b.Fatalf("read %d events, %v", len(got), err)
				}
			}
		})
	}
}
