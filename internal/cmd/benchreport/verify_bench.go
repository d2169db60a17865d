package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

// verify measures offline verification of a log of verifyEvents events
// (a million in a full run) on one core.
func (b *bench) verify(context.Context) ([]row, error) {
	events, err := buildLog(b.cfg.verifyEvents, 100)
	if err != nil {
		return nil, err
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var rates []float64
	for range b.cfg.rounds {
		start := time.Now()
		if err := integrity.Verify(events); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		rates = append(rates, float64(len(events))/time.Since(start).Seconds())
	}
	return []row{{
		fmt.Sprintf("(e) verify %d events (~300 B payloads, 100 streams), GOMAXPROCS=1", len(events)),
		fmt.Sprintf("%.2f M events/s", median(rates)/1e6), "≥ 1 M events/s", "hash + digest of every event, in memory",
	}}, nil
}

// buildLog makes a valid interleaved log of n events over the given number of streams.
func buildLog(n, streams int) ([]domain.Event, error) {
	opts := eventstore.Options{}.WithDefaults()
	type head struct {
		seq  int64
		hash domain.Hash
	}
	ids := make([]eventstore.Stream, streams)
	heads := make([]head, streams)
	for i := range ids {
		ids[i] = benchStream()
	}
	out := make([]domain.Event, 0, n)
	for len(out) < n {
		i := len(out) % streams
		p, err := eventstore.Prepare(ids[i], heads[i].seq, heads[i].hash, newEvents(int64(len(out)), 1), opts)
		if err != nil {
			return nil, err
		}
		p[0].Position = int64(len(out))
		heads[i] = head{p[0].Seq, p[0].Hash}
		out = append(out, p[0])
	}
	return out, nil
}
