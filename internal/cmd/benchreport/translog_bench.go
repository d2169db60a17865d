package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/translog"
)

// transparencyLog measures what issue 17 asks of the transparency log:
// appends while the tree is built against appends without it, the
// checkpoint's signing, inclusion proofs in a large tree, and offline
// verification of an export with a proof per event.
func (b *bench) transparencyLog(ctx context.Context) ([]row, error) {
	rows, err := b.appendsWithTree(ctx)
	if err != nil {
		return nil, err
	}
	proofRows, err := b.proofsInLargeTree(ctx)
	if err != nil {
		return nil, err
	}
	verifyRow, err := b.verifyExportProofs()
	if err != nil {
		return nil, err
	}
	return append(append(rows, proofRows...), verifyRow), nil
}

// benchLog returns a transparency log on s with throwaway keys.
func benchLog(s translog.Store, interval time.Duration) (*translog.Log, error) {
	signer, vkey, err := integrity.Ed25519Signer("bench.axontask.local/log", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		return nil, err
	}
	return translog.New(translog.Config{Store: s, Signer: signer, SignerKey: vkey, CheckpointInterval: interval})
}

// appendsWithTree runs alternating rounds of 8 writers appending
// 50-event batches to two databases of their own: one with only a follower
// of the feed (as the relay, which production always runs), the other with
// a follower and the tree's builder. Both run all the time, as they do in
// production, idle while the other database's round runs; after each
// round, what it left is let finish, untimed (settle), so that none of it
// spills into the next round, on the other database.
func (b *bench) appendsWithTree(ctx context.Context) ([]row, error) {
	plain, _, closePlain, err := b.freshStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closePlain()
	s, url, closeStore, err := b.freshStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	l, err := benchLog(s, translog.DefaultCheckpointInterval)
	if err != nil {
		return nil, err
	}
	without, with, err := appendRounds(ctx, plain, s, l, b.cfg.rounds, b.cfg.roundTime)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	cp, err := l.CheckpointNow(ctx)
	if err != nil {
		return nil, err
	}
	signing := time.Since(start)
	feedRow, err := feedReads(ctx, url)
	if err != nil {
		return nil, err
	}
	return []row{
		feedRow,
		{
			"(t1) appends (8 writers × 50-event batches, a feed follower) while the Merkle tree is built, against without it",
			fmt.Sprintf("%.0f %% (%.0f against %.0f events/s)", 100*medianRatio(with, without), median(with), median(without)),
			"≥ 95 %", ratios(with, without) + "; a database for each, the builder running throughout as in production",
		},
		{
			fmt.Sprintf("(t2) signing a checkpoint of the tree of %d leaves (root from the store, Ed25519, stored)", cp.Size),
			signing.Round(10 * time.Microsecond).String(), "—",
			fmt.Sprintf("one every %s while the log grows (LOG_CHECKPOINT_INTERVAL)", translog.DefaultCheckpointInterval),
		},
	}, nil
}

// appendRounds runs rounds alternating appendsDuring d on plain and on
// s, whose tree l builds, with a follower of each feed and l's builder
// running throughout, and returns the rates of each.
func appendRounds(ctx context.Context, plain, s *postgres.Store, l *translog.Log, rounds int, d time.Duration) (without, with []float64, err error) {
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	wg.Go(func() { followFeed(bg, plain) })
	wg.Go(func() { followFeed(bg, s) })
	wg.Go(func() { _ = l.Run(bg) })
	for round := range rounds {
		arms := []bool{false, true}
		if round%2 == 1 {
			arms = []bool{true, false}
		}
		for _, tree := range arms {
			store, rates := plain, &without
			if tree {
				store, rates = s, &with
			}
			rate, err := appendsDuring(ctx, store, d)
			if err != nil {
				return nil, nil, err
			}
			*rates = append(*rates, rate)
			if err := settle(ctx, store, l, tree); err != nil {
				return nil, nil, err
			}
		}
	}
	return without, with, nil
}

// settle lets what a round on s left behind finish, untimed, so that none
// of it runs in the next round, on the other database: the sealing of its
// appends and, with the tree, their leaves and a checkpoint of them (the
// builder's ticker, in the next round, then finds it signed).
func settle(ctx context.Context, s *postgres.Store, l *translog.Log, tree bool) error {
	if err := waitCount(ctx, "appends the sealer has not sealed", s.SealerPending, func(n int64) bool { return n == 0 }); err != nil || !tree {
		return err
	}
	if err := treeCaughtUp(ctx, s); err != nil {
		return err
	}
	_, err := l.CheckpointNow(ctx)
	return err
}

// treeCaughtUp waits until the stored tree holds every event the feed
// held when it was called (the builder retries its failures, and logs
// them, without end).
func treeCaughtUp(ctx context.Context, s *postgres.Store) error {
	head, err := s.FeedHead(ctx)
	if err != nil {
		return err
	}
	return waitCount(ctx, fmt.Sprintf("leaves of the tree, of the feed's %d events,", head), s.MerkleTreeSize, func(n int64) bool { return n >= head })
}

// waitCount reads a count until done accepts it, or fails after a minute
// naming what it counts and where it stood.
func waitCount(ctx context.Context, what string, read func(context.Context) (int64, error), done func(int64) bool) error {
	var n int64
	var err error
	if !testwait.Until(time.Minute, func() bool {
		n, err = read(ctx)
		return err != nil || done(n)
	}) {
		return fmt.Errorf("%d %s after a minute", n, what)
	}
	return err
}

// feedReads measures reads of 1,000 events at random positions of the
// feed that the rounds left in the database at url, as the relay and the
// other feed consumers read it from the database: a read must cost the
// same in a large table as in a small one.
func feedReads(ctx context.Context, url string) (row, error) {
	// A store of its own, without the feed cache: the reads that (t1)'s
	// store kept in memory would be served from there.
	s, err := postgres.Open(ctx, url, postgres.Config{DisableSealer: true, Options: eventstore.Options{FeedCacheEvents: -1}})
	if err != nil {
		return row{}, err
	}
	defer func() { _ = s.Close() }()
	head, err := s.FeedHead(ctx)
	if err != nil {
		return row{}, err
	}
	n := min(head, 1000) // a smoke run's feed may be shorter
	if n == 0 {
		return row{}, errors.New("feed reads: the rounds left an empty feed")
	}
	lat := make([]time.Duration, 200)
	for i := range lat {
		from := rand.Int64N(head - n + 1)
		t := time.Now()
		events, err := s.ReadFeed(ctx, from, int(n))
		lat[i] = time.Since(t)
		if err != nil {
			return row{}, err
		}
		if int64(len(events)) != n {
			return row{}, fmt.Errorf("feed reads: ReadFeed(%d, %d) returned %d events", from, n, len(events))
		}
	}
	return row{
		fmt.Sprintf("(t0) a read of %d events of the feed (ReadFeed, random positions), from a table of %d events", n, head),
		fmt.Sprintf("p50 %s, p99 %s", percentile(lat, 0.5).Round(10*time.Microsecond), percentile(lat, 0.99).Round(10*time.Microsecond)),
		"—", "what the relay and every other feed consumer pay a page; it must not grow with the table (a join the planner ran as a scan of all events once took 350 ms here)",
	}, nil
}

// freshStore opens a store on a database of its own, dropped by the
// function it returns with it; its URL is for another store on it.
func (b *bench) freshStore(ctx context.Context) (*postgres.Store, string, func(), error) {
	url, drop, err := testpg.CreateDatabase(ctx, b.srv.admin)
	if err != nil {
		return nil, "", nil, err
	}
	s, err := postgres.Open(ctx, url, postgres.Config{})
	if err != nil {
		_ = drop()
		return nil, "", nil, err
	}
	return s, url, func() { _ = s.Close(); _ = drop() }, nil
}

// followFeed reads the feed from its head on, as the relay does, until ctx
// ends.
func followFeed(ctx context.Context, s eventstore.Store) {
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

// appendsDuring has 8 writers append 50-event batches for d, and returns
// the events appended per second.
func appendsDuring(ctx context.Context, s eventstore.Store, d time.Duration) (float64, error) {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	errs := make(chan error, 8)
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			stream := benchStream()
			for seq := int64(0); time.Now().Before(deadline); seq += 50 {
				if _, err := s.Append(ctx, stream, seq, newEvents(seq, 50)); err != nil {
					errs <- err
					return
				}
				n.Add(50)
			}
		})
	}
	wg.Wait()
	rate := float64(n.Load()) / time.Since(start).Seconds()
	close(errs)
	return rate, <-errs
}

// proofsInLargeTree stores a tree of translogLeaves synthetic leaves on a
// database of its own, the way the builder grows it (100,000 leaves a
// grow), then measures inclusion and consistency proofs from the store.
func (b *bench) proofsInLargeTree(ctx context.Context) ([]row, error) {
	s, _, closeStore, err := b.freshStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	leaves := int64(b.cfg.translogLeaves)
	began := time.Now()
	var edge []domain.Hash
	for size := int64(0); size < leaves; {
		batch := make([]domain.Hash, min(100_000, leaves-size))
		for i := range batch {
			var x [8]byte
			binary.BigEndian.PutUint64(x[:], uint64(size)+uint64(i))
			batch[i] = sha256.Sum256(x[:])
		}
		var added []domain.Hash
		added, edge = translog.AppendLeaves(edge, size, batch)
		if err := s.MerkleTreeGrow(ctx, size, size+int64(len(batch)), added); err != nil {
			return nil, err
		}
		size += int64(len(batch))
	}
	built := time.Since(began)
	p := translog.NewProver(s)
	measure := func(proof func(i int64) error) (p50, p99 time.Duration, err error) {
		lat := make([]time.Duration, 2000)
		for i := range lat {
			t := time.Now()
			if err := proof(rand.Int64N(leaves)); err != nil {
				return 0, 0, err
			}
			lat[i] = time.Since(t)
		}
		return percentile(lat, 0.5), percentile(lat, 0.99), nil
	}
	in50, in99, err := measure(func(i int64) error { _, err := p.InclusionProof(ctx, i, leaves); return err })
	if err != nil {
		return nil, err
	}
	co50, co99, err := measure(func(i int64) error { _, err := p.ConsistencyProof(ctx, i+1, leaves); return err })
	if err != nil {
		return nil, err
	}
	return []row{
		{
			fmt.Sprintf("(t3) inclusion proof from the store, tree of %d leaves (2,000 random leaves)", leaves),
			fmt.Sprintf("p50 %s, p99 %s", in50.Round(time.Microsecond), in99.Round(time.Microsecond)), "—",
			fmt.Sprintf("consistency proofs: p50 %s, p99 %s; building the tree took %s (%.0f leaves/s)",
				co50.Round(time.Microsecond), co99.Round(time.Microsecond), built.Round(time.Millisecond), float64(leaves)/built.Seconds()),
		},
	}, nil
}

// verifyExportProofs measures offline verification, on one core, of an
// export of translogVerifyEvents events of 100 streams with an inclusion
// proof of each in a signed tree of their size: the chains, then every
// event's leaf through its proof to the checkpoint's root.
func (b *bench) verifyExportProofs() (row, error) {
	events, err := buildLog(b.cfg.translogVerifyEvents, 100)
	if err != nil {
		return row{}, err
	}
	var export []byte
	leaves := make([]domain.Hash, len(events))
	for i := range events {
		if export, err = events[i].AppendJSON(export); err != nil {
			return row{}, err
		}
		export = append(export, '\n')
		leaves[i] = integrity.LeafHash(&events[i])
	}
	stored, _ := translog.AppendLeaves(nil, 0, leaves)
	hashes := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = tlog.Hash(stored[x])
		}
		return out, nil
	})
	size := int64(len(events))
	root, err := tlog.TreeHash(size, hashes)
	if err != nil {
		return row{}, err
	}
	signer, vkey, err := integrity.Ed25519Signer("bench.axontask.local/log", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		return row{}, err
	}
	logKey, err := note.NewVerifier(vkey)
	if err != nil {
		return row{}, err
	}
	msg, err := integrity.SignCheckpoint(integrity.Checkpoint{Origin: signer.Name(), Size: size, Root: domain.Hash(root)}, signer)
	if err != nil {
		return row{}, err
	}
	proofs := integrity.ExportProofs{Checkpoint: string(msg), Inclusion: make([]integrity.InclusionProof, size)}
	for i := range size {
		p, err := tlog.ProveRecord(size, i, hashes)
		if err != nil {
			return row{}, err
		}
		ip := integrity.InclusionProof{Index: i, Size: size, Hashes: make([]string, len(p))}
		for k, h := range p {
			ip.Hashes[k] = base64.StdEncoding.EncodeToString(h[:])
		}
		proofs.Inclusion[i] = ip
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var rates []float64
	for range b.cfg.rounds {
		start := time.Now()
		rep, err := integrity.VerifyExportProofs(bytes.NewReader(export), &proofs, logKey)
		if err != nil {
			return row{}, fmt.Errorf("verify the export's proofs: %w", err)
		}
		if rep.Included != size {
			return row{}, fmt.Errorf("verify the export's proofs: %d of %d events included", rep.Included, size)
		}
		rates = append(rates, float64(size)/time.Since(start).Seconds())
	}
	return row{
		fmt.Sprintf("(t4) offline verification of an export of %d events (100 streams) with an inclusion proof of each, GOMAXPROCS=1", size),
		fmt.Sprintf("%.0f events/s", median(rates)), "—", "the chains, then each leaf through its proof to the signed root (axontask verify -proofs)",
	}, nil
}
