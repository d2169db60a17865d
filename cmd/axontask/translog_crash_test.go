package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/integrity"
)

// TestTransparencyLogSurvivesKill9: dev is killed with SIGKILL again and
// again while tasks append and the log grows its tree and signs a
// checkpoint every 50 ms. Afterwards the stored tree is exactly the tree of
// the feed (no leaf lost or wrong), every stored checkpoint's root is the
// root of the feed's first leaves of its size and its note verifies (one
// size, one root, never another), and a restarted dev catches up.
func TestTransparencyLogSurvivesKill9(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	for round := range 5 {
		dev := startDevIn(t, dataDir)
		for range 3 {
			post(t, dev, `{"name":"crash","adapter":"mock","args":{"steps":400,"output_lines_per_step":3,"interval_ms":2}}`)
		}
		time.Sleep(time.Duration(150+97*round) * time.Millisecond)
		_ = dev.cmd.Process.Kill() // SIGKILL, wherever it is
		_ = dev.cmd.Wait()
	}
	checkTreeOfFeed(t, dataDir)
	// A restarted dev grows the tree over the whole feed.
	dev := startDevIn(t, dataDir)
	store := openQuiet(t, dataDir)
	head, err := store.FeedHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for size, _ := store.MerkleTreeSize(t.Context()); size < head; size, _ = store.MerkleTreeSize(t.Context()) {
		if time.Now().After(deadline) {
			t.Fatalf("the tree has %d leaves 30 s after a restart, the feed %d", size, head)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = dev.cmd.Process.Kill()
	_ = dev.cmd.Wait()
	checkTreeOfFeed(t, dataDir)
}

// startDevIn starts dev on dataDir with a fast checkpoint interval and the
// environment variables env (NAME=value) too.
func startDevIn(t *testing.T, dataDir string, env ...string) *devProc {
	t.Helper()
	return launchDev(t, dataDir, processLogs(t), append([]string{"LOG_CHECKPOINT_INTERVAL=100ms"}, env...))
}

// post starts a task on dev and returns its id.
func post(t *testing.T, dev *devProc, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, dev.base+"/mcp/start_task", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+dev.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var started api.StartedTask
	if err := json.NewDecoder(resp.Body).Decode(&started); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("start: %s, %v", resp.Status, err)
	}
	return started.TaskID.String()
}

// openQuiet opens dev's store beside it.
func openQuiet(t *testing.T, dataDir string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// checkTreeOfFeed checks the stored tree and checkpoints against the tree
// recomputed from the feed.
func checkTreeOfFeed(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	s := openQuiet(t, dataDir)
	defer func() { _ = s.Close() }()
	size, err := s.MerkleTreeSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := s.FeedHead(ctx)
	if err != nil || size > head || size == 0 {
		t.Fatalf("tree of %d leaves over a feed of %d (%v)", size, head, err)
	}
	var want []tlog.Hash // the tree recomputed from the feed
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = want[x]
		}
		return out, nil
	})
	for from := int64(0); from < size; {
		events, err := s.ReadFeed(ctx, from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for i := range events {
			if events[i].Position >= size {
				break
			}
			hs, err := tlog.StoredHashesForRecordHash(events[i].Position, tlog.Hash(integrity.LeafHash(&events[i])), reader)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, hs...)
		}
		from += int64(len(events))
	}
	stored, err := s.MerkleHashesRead(ctx, seq(int64(len(want))))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if stored[i] != domain.Hash(want[i]) {
			t.Fatalf("stored hash %d differs from the feed's tree (tree of %d leaves)", i, size)
		}
	}
	logKey, err := os.ReadFile(filepath.Join(dataDir, "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	_, vkey, err := integrity.ParseSignerKey(string(bytes.TrimSpace(logKey)))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	checkpoints := 0
	for n := int64(1); n <= size; n++ {
		cp, found, err := s.MerkleCheckpointGet(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			continue
		}
		checkpoints++
		root, err := tlog.TreeHash(n, reader)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := integrity.OpenCheckpoint(cp.Note, verifier)
		if err != nil || opened.Size != n || opened.Root != domain.Hash(root) || cp.Root != domain.Hash(root) {
			t.Fatalf("checkpoint of size %d: %+v (%v), stored root %x, the feed's %x", n, opened, err, cp.Root, root)
		}
	}
	if checkpoints == 0 {
		t.Fatal("no checkpoint was signed")
	}
	t.Logf("tree of %d leaves over a feed of %d, %d checkpoints, all the feed's", size, head, checkpoints)
}

func seq(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}
