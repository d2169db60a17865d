package main

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/internal/testpg"
)

// sealerCatchUp measures the sealer's capacity: a backlog of committed,
// unsealed events is written with no sealer running, then a sealer starts
// and the time until the whole backlog is in the feed is taken.
func (b *bench) sealerCatchUp(ctx context.Context) ([]row, error) {
	const batch = 10
	backlog := int64(b.cfg.sealerBacklog)
	url, drop, err := testpg.CreateDatabase(ctx, b.srv.admin)
	if err != nil {
		return nil, err
	}
	defer func() { _ = drop() }()
	writer, err := postgres.Open(ctx, url, postgres.Config{DisableSealer: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = writer.Close() }()
	stream := benchStream()
	for seq := int64(0); seq < backlog; seq += batch {
		if _, err := writer.Append(ctx, stream, seq, newEvents(seq, batch)); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	sealer, err := postgres.Open(ctx, url, postgres.Config{})
	if err != nil {
		return nil, err
	}
	defer func() { _ = sealer.Close() }()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := sealer.WaitFeed(wctx, backlog-1); err != nil {
		return nil, fmt.Errorf("sealer catch-up: %w", err)
	}
	elapsed := time.Since(start)
	return []row{{
		fmt.Sprintf("(d) sealer capacity: a backlog of %d committed events sealed from scratch", backlog),
		fmt.Sprintf("%.0f events/s (%s)", float64(backlog)/elapsed.Seconds(), elapsed.Round(time.Millisecond)),
		"≥ (b) and (c)", fmt.Sprintf("%.0f appends/s of %d events each; store open and election included", float64(backlog/batch)/elapsed.Seconds(), batch),
	}}, nil
}
