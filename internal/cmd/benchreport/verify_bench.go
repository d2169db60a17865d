package main

import (
	"bytes"
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
	rate := func(verify func() error) (float64, error) {
		var rates []float64
		for range b.cfg.rounds {
			start := time.Now()
			if err := verify(); err != nil {
				return 0, fmt.Errorf("verify: %w", err)
			}
			rates = append(rates, float64(len(events))/time.Since(start).Seconds())
		}
		return median(rates), nil
	}
	inMemory, err := rate(func() error { return integrity.Verify(events) })
	if err != nil {
		return nil, err
	}
	rows := []row{{
		fmt.Sprintf("(e) verify %d events (~300 B payloads, 100 streams), GOMAXPROCS=1", len(events)),
		fmt.Sprintf("%.2f M events/s", inMemory/1e6), "≥ 1 M events/s", "hash + digest of every event, in memory",
	}}
	jsonl, binary := []byte{}, []byte(integrity.BinaryExportMagic)
	for i := range events {
		if jsonl, err = events[i].AppendJSON(jsonl); err != nil {
			return nil, err
		}
		jsonl = append(jsonl, '\n')
		if binary, err = integrity.AppendBinaryRecord(binary, &events[i]); err != nil {
			return nil, err
		}
	}
	for _, export := range []struct {
		name, target string
		data         []byte
	}{{"JSON Lines", "—", jsonl}, {"binary", "≥ 1 M events/s", binary}} {
		r, err := rate(func() error { _, err := integrity.VerifyExport(bytes.NewReader(export.data)); return err })
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{
			fmt.Sprintf("(e) verify the same events from their %s export (%d MB), GOMAXPROCS=1", export.name, len(export.data)>>20),
			fmt.Sprintf("%.2f M events/s (%.0f %% of in memory)", r/1e6, 100*r/inMemory), export.target, "axontask verify reading an export (axontask export -format jsonl or binary), from memory",
		})
	}
	return rows, nil
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
