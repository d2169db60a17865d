package translog_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/translog"
)

// openPostgres opens a store on a fresh Postgres database of its own,
// dropped when the benchmark ends (fsync on with AXONTASK_BENCH_DURABLE=1).
func openPostgres(b *testing.B) *postgres.Store {
	b.Helper()
	mode := testpg.Fast
	if os.Getenv("AXONTASK_BENCH_DURABLE") == "1" {
		mode = testpg.Durable
	}
	s, err := postgres.Open(b.Context(), testpg.NewDatabase(b, mode), postgres.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// appendFor appends batches of 50 output events to streams of their own
// from 8 goroutines for d, and returns the events appended per second.
func appendFor(b *testing.B, s eventstore.Store, d time.Duration) float64 {
	var n atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			stream := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "tenant-bench"}
			var seq int64
			for ctx.Err() == nil {
				batch := make([]domain.NewEvent, 50)
				for i := range batch {
					batch[i] = domain.NewEvent{EventID: uuid.New(), Type: domain.TaskOutputType, OccurredAt: time.Now(),
						Payload: fmt.Appendf(nil, `{"data":"line %d of some output that a build prints\n","offset":%d,"stream":"stdout"}`, seq+int64(i), seq*60)}
				}
				if _, err := s.Append(context.Background(), stream, seq, batch); err != nil {
					b.Error(err)
					return
				}
				seq += 50
				n.Add(50)
			}
		})
	}
	start := time.Now()
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// follow reads the feed from its head on, as the relay does, until ctx
// ends: every production process that appends has one.
func follow(ctx context.Context, s eventstore.Store) {
	from, _ := s.FeedHead(ctx)
	for ctx.Err() == nil {
		events, err := s.ReadFeed(ctx, from, 1000)
		if err != nil {
			return
		}
		from += int64(len(events))
		if len(events) == 0 {
			_ = s.WaitFeed(ctx, from)
		}
	}
}

// during runs each of fns until appendFor returns, and returns its rate.
func during(b *testing.B, s eventstore.Store, window time.Duration, fns ...func(context.Context)) float64 {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { fn(ctx) })
	}
	rate := appendFor(b, s, window)
	cancel()
	wg.Wait()
	return rate
}

// BenchmarkAppendWithTree measures batched appends on Postgres (8 writers,
// 50 events a batch) in three arms: alone; with a follower of the feed (as
// the relay, which production always runs); and with that follower and the
// log's builder. Each round runs every arm once, in an order that rotates
// from round to round, so that the drift of a growing store over the run
// weighs on every arm alike; the medians are reported. The target is the
// builder's arm at 95 % of the follower's or more:
// go test -run XXX -bench AppendWithTree -benchtime 1x ./translog/
func BenchmarkAppendWithTree(b *testing.B) {
	s := openPostgres(b)
	l := newLog(b, s, 0, 2*time.Second)
	builder := func(ctx context.Context) { _ = l.Run(ctx) }
	arms := []struct {
		name string
		fns  []func(context.Context)
	}{
		{"relay", []func(context.Context){func(ctx context.Context) { follow(ctx, s) }}},
		{"relay-and-tree", []func(context.Context){func(ctx context.Context) { follow(ctx, s) }, builder}},
		{"alone", nil},
	}
	const window, rounds = 3 * time.Second, 6
	rates := make([][]float64, len(arms))
	for round := range rounds {
		for k := range arms {
			a := (k + round) % len(arms)
			rates[a] = append(rates[a], during(b, s, window, arms[a].fns...))
		}
	}
	base := median(rates[0])
	for a, arm := range arms {
		b.ReportMetric(median(rates[a]), "events/s-"+arm.name)
		if arm.name == "relay-and-tree" {
			b.ReportMetric(100*median(rates[a])/base, "%-of-relay")
		}
		b.Logf("%s: %.0f events/s", arm.name, rates[a])
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkProofs builds a tree of AXONTASK_BENCH_LEAVES leaves (default
// 1,000,000) on Postgres as the builder does, then measures inclusion and
// consistency proofs and a checkpoint's signing:
// AXONTASK_BENCH_LEAVES=10000000 go test -run XXX -bench Proofs -benchtime 1x -timeout 1h ./translog/
func BenchmarkProofs(b *testing.B) {
	leaves := int64(1_000_000)
	if v := os.Getenv("AXONTASK_BENCH_LEAVES"); v != "" {
		var err error
		if leaves, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatal(err)
		}
	}
	s := openPostgres(b)
	l := newLog(b, s, 0, time.Hour)
	ctx := context.Background()
	began := time.Now()
	const batch = 100_000
	for size := int64(0); size < leaves; size += batch {
		n := min(batch, leaves-size)
		hs := make([]domain.Hash, n)
		for i := range hs {
			var x [8]byte
			binary.BigEndian.PutUint64(x[:], uint64(size)+uint64(i))
			hs[i] = sha256.Sum256(x[:])
		}
		if err := translog.GrowLeaves(ctx, l, size, hs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(began).Seconds(), "s-to-build")
	b.ReportMetric(float64(leaves)/time.Since(began).Seconds(), "leaves/s-built")

	t0 := time.Now()
	if _, err := l.CheckpointNow(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "ms-checkpoint")

	measure := func(name string, proof func(i int64) error) {
		lat := make([]time.Duration, 2000)
		for i := range lat {
			t := time.Now()
			if err := proof(rand.Int64N(leaves)); err != nil {
				b.Fatal(err)
			}
			lat[i] = time.Since(t)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-"+name+"-p50")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-"+name+"-p99")
	}
	measure("inclusion", func(i int64) error { _, err := l.InclusionProof(ctx, i, leaves); return err })
	measure("consistency", func(i int64) error { _, err := l.ConsistencyProof(ctx, i+1, leaves); return err })
}
