package translog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/translog"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const origin = "test.axontask.local/log"

var baseTime = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// bundle is a log on a fresh store, with its keys.
type bundle struct {
	store teststores.Store
	log   *translog.Log
	keys  integrity.ReceiptKeys
}

func seed(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func setup(t *testing.T, s teststores.Store, batch int, interval time.Duration) *bundle {
	t.Helper()
	b := &bundle{store: s, log: newLog(t, s, batch, interval)}
	var err error
	if b.keys.Log, err = note.NewVerifier(b.log.Keys().Log[0]); err != nil {
		t.Fatal(err)
	}
	if b.keys.Receipt, err = note.NewVerifier(b.log.Keys().Receipts[0]); err != nil {
		t.Fatal(err)
	}
	return b
}

// newLog returns a log on s with the test keys and witnesses.
func newLog(t testing.TB, s translog.Store, batch int, interval time.Duration, witnesses ...translog.Witness) *translog.Log {
	t.Helper()
	signer, vkey, err := integrity.Ed25519Signer(origin, seed(1))
	if err != nil {
		t.Fatal(err)
	}
	rsigner, rvkey, err := integrity.Ed25519Signer(origin+"/receipts", seed(2))
	if err != nil {
		t.Fatal(err)
	}
	l, err := translog.New(translog.Config{Store: s, Signer: signer, SignerKey: vkey, ReceiptSigner: rsigner, ReceiptKey: rvkey,
		CheckpointInterval: interval, Batch: batch, Witnesses: witnesses})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// run runs the log's builder until the test ends.
func (b *bundle) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.log.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// appendTask appends a task stream of n events, the last one terminal
// when end is set, and returns them.
func appendTask(t *testing.T, s eventstore.Store, n int, end bool) []domain.Event {
	t.Helper()
	stream := eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "tenant-a"}
	events := make([]domain.NewEvent, n)
	for i := range events {
		events[i] = domain.NewEvent{EventID: uuid.New(), Type: domain.TaskOutputType, OccurredAt: baseTime.Add(time.Duration(i) * time.Millisecond),
			Payload: fmt.Appendf(nil, `{"data":"line %d\n","offset":%d,"stream":"stdout"}`, i, i*8)}
	}
	if end {
		events[n-1].Type, events[n-1].Payload = domain.TaskSucceededType, []byte(`{"exit_code":0}`)
	}
	stored, err := s.Append(t.Context(), stream, 0, events)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// waitTree waits until the stored tree has n leaves.
func waitTree(t *testing.T, s eventstore.MerkleStore, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		size, err := s.MerkleTreeSize(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if size == n {
			return
		}
		if size > n || time.Now().After(deadline) {
			t.Fatalf("the tree has %d leaves, want %d", size, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectedTree hashes the whole feed into a tree in memory, from the spec.
func expectedTree(t *testing.T, s eventstore.Store) (*memTree, int64) {
	t.Helper()
	events, err := s.ReadFeed(t.Context(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	m := &memTree{}
	for i := range events {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.Hash(integrity.LeafHash(&events[i])), m)
		if err != nil {
			t.Fatal(err)
		}
		m.hashes = append(m.hashes, hs...)
	}
	return m, int64(len(events))
}

type memTree struct{ hashes []tlog.Hash }

func (m *memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m.hashes[x]
	}
	return out, nil
}

// TestLogFollowsTheFeed: the builder's tree, grown in small batches while
// appends go on, has the root computed from the feed alone; checkpoints
// are signed as it grows; every proof it serves checks.
func TestLogFollowsTheFeed(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s, 7, 20*time.Millisecond)
		b.run(t)
		var n int64
		for i := range 30 {
			n += int64(len(appendTask(t, s, 1+i%9, false)))
		}
		if err := s.WaitFeed(t.Context(), n-1); err != nil {
			t.Fatal(err)
		}
		waitTree(t, s, n)
		want, _ := expectedTree(t, s)
		root, err := tlog.TreeHash(n, want)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := b.log.CheckpointNow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		opened, err := integrity.OpenCheckpoint(cp.Note, b.keys.Log)
		if err != nil || opened.Size != n || opened.Root != domain.Hash(root) {
			t.Fatalf("checkpoint %+v (%v), want size %d root %x", opened, err, n, root)
		}
		feed, _ := s.ReadFeed(t.Context(), 0, int(n))
		for _, index := range []int64{0, 1, n / 2, n - 1} {
			p, err := b.log.InclusionProof(t.Context(), index, n)
			if err != nil {
				t.Fatal(err)
			}
			hs, _ := integrity.ParseProof(p.Hashes)
			if err := integrity.CheckInclusion(hs, opened, index, integrity.LeafHash(&feed[index])); err != nil {
				t.Errorf("leaf %d: %v", index, err)
			}
		}
		for _, old := range []int64{1, 5, n - 3, n} {
			p, err := b.log.ConsistencyProof(t.Context(), old, n)
			if err != nil {
				t.Fatal(err)
			}
			oldRoot, _ := tlog.TreeHash(old, want)
			hs, _ := integrity.ParseProof(p.Hashes)
			if err := integrity.CheckConsistency(hs, integrity.Checkpoint{Origin: origin, Size: old, Root: domain.Hash(oldRoot)}, opened); err != nil {
				t.Errorf("consistency %d → %d: %v", old, n, err)
			}
		}
	})
}

// TestProofArguments: bad proof arguments are validation errors naming the
// parameter.
func TestProofArguments(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s, 0, 20*time.Millisecond)
		b.run(t)
		appendTask(t, s, 4, false)
		waitTree(t, s, 4)
		for _, tc := range []struct {
			name          string
			index, size   int64
			old, new      int64
			field         string
			consistencyOf bool
		}{
			{name: "negative index", index: -1, size: 2, field: "index"},
			{name: "index at size", index: 2, size: 2, field: "index"},
			{name: "size beyond the tree", index: 1, size: 5, field: "size"},
			{name: "old zero", old: 0, new: 2, field: "old", consistencyOf: true},
			{name: "old above new", old: 3, new: 2, field: "old", consistencyOf: true},
			{name: "new beyond the tree", old: 1, new: 9, field: "new", consistencyOf: true},
		} {
			var err error
			if tc.consistencyOf {
				_, err = b.log.ConsistencyProof(t.Context(), tc.old, tc.new)
			} else {
				_, err = b.log.InclusionProof(t.Context(), tc.index, tc.size)
			}
			var verr *domain.ValidationError
			if !errors.As(err, &verr) || verr.Field != tc.field {
				t.Errorf("%s: %v, want a validation error naming %s", tc.name, err, tc.field)
			}
		}
	})
}

// TestInclusionProofsInOneRead: proofs of many leaves asked together are
// those asked one by one, and each checks against the tree's root.
func TestInclusionProofsInOneRead(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s, 0, 20*time.Millisecond)
		b.run(t)
		events := appendTask(t, s, 37, false)
		waitTree(t, s, 37)
		cp, err := b.log.CheckpointNow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c, err := integrity.OpenCheckpoint(cp.Note, b.keys.Log)
		if err != nil {
			t.Fatal(err)
		}
		indexes := []int64{36, 0, 17, 17, 5}
		proofs, err := b.log.InclusionProofs(t.Context(), indexes, 37)
		if err != nil || len(proofs) != len(indexes) {
			t.Fatalf("InclusionProofs: %d proofs, %v", len(proofs), err)
		}
		for k, index := range indexes {
			one, err := b.log.InclusionProof(t.Context(), index, 37)
			if err != nil || !slices.Equal(one.Hashes, proofs[k].Hashes) || proofs[k].Index != index {
				t.Fatalf("leaf %d: together %+v, alone %+v (%v)", index, proofs[k], one, err)
			}
			hashes, err := integrity.ParseProof(proofs[k].Hashes)
			if err != nil {
				t.Fatal(err)
			}
			if err := integrity.CheckInclusion(hashes, c, index, integrity.LeafHash(&events[index])); err != nil {
				t.Fatalf("leaf %d: %v", index, err)
			}
		}
		var verr *domain.ValidationError
		if _, err := b.log.InclusionProofs(t.Context(), []int64{3, 37}, 37); !errors.As(err, &verr) || verr.Field != "index" {
			t.Fatalf("an index at size among others: %v", err)
		}
	})
}

// TestReceiptSurvivesPruning: an ended task's receipt verifies against the
// task's export, before and after its payloads are pruned; a task that has
// not ended gets none.
func TestReceiptSurvivesPruning(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s, 0, 20*time.Millisecond)
		b.run(t)
		appendTask(t, s, 3, false)
		task := appendTask(t, s, 5, true)
		running := appendTask(t, s, 2, false)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		r, err := b.log.Receipt(ctx, task[len(task)-1])
		if err != nil {
			t.Fatal(err)
		}
		export := func() []byte {
			events, err := s.ReadStream(t.Context(), task[0].StreamID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			for i := range events {
				out, _ = events[i].AppendJSON(out)
				out = append(out, '\n')
			}
			return out
		}
		if _, err := integrity.VerifyReceiptExport(bytes.NewReader(export()), &r, b.keys, nil); err != nil {
			t.Fatalf("fresh: %v", err)
		}
		if n, err := s.TaskPrune(t.Context(), task[0].StreamID, time.Now()); err != nil || n != 5 {
			t.Fatalf("prune: %d, %v", n, err)
		}
		pruned := export()
		if !bytes.Contains(pruned, []byte(`"payload":null`)) {
			t.Fatalf("not pruned: %s", pruned)
		}
		if _, err := integrity.VerifyReceiptExport(bytes.NewReader(pruned), &r, b.keys, nil); err != nil {
			t.Fatalf("pruned: %v", err)
		}
		var verr *domain.ValidationError
		if _, err := b.log.Receipt(ctx, running[1]); !errors.As(err, &verr) {
			t.Fatalf("receipt of a running task: %v", err)
		}
	})
}

// TestCheckpointRefusesAFork: with a checkpoint of the tree's size stored
// under another root, the log signs nothing and says why.
func TestCheckpointRefusesAFork(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s, 0, time.Hour) // only the builder runs
		appendTask(t, s, 3, false)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); _ = b.log.Run(ctx) }()
		waitTree(t, s, 3)
		cancel()
		<-done
		if _, err := s.MerkleCheckpointPut(t.Context(), eventstore.MerkleCheckpoint{Size: 3, Root: domain.Hash{1}, Note: []byte("forged")}); err != nil {
			t.Fatal(err)
		}
		_, err := b.log.CheckpointNow(t.Context())
		var fork *translog.ForkError
		if !errors.As(err, &fork) || fork.Size != 3 {
			t.Fatalf("CheckpointNow: %v, want a *ForkError for size 3", err)
		}
	})
}
