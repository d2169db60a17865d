package translog_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testproc"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/translog"
)

// witnessBins builds torchwood's litewitness and witnessctl (pinned in
// tools/go.mod) once per test binary.
var witnessBins = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "axontask-litewitness-")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(context.Background(), "go", "build", "-modfile=../tools/go.mod", "-o", dir+"/",
		"filippo.io/torchwood/cmd/litewitness", "filippo.io/torchwood/cmd/witnessctl")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("build litewitness: " + err.Error() + ": " + string(out))
	}
	return dir, nil
})

// litewitness is a real witness of the C2SP tlog-witness protocol, written
// by others: torchwood's litewitness, its key in an ssh-agent of its own.
type litewitness struct {
	url, vkey string
}

// startLitewitness starts a witness that knows the log of origin and key
// logKey, for the test's duration.
func startLitewitness(t *testing.T, logKey string) litewitness {
	t.Helper()
	for _, tool := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: .ci/run installs openssh-client", tool)
			}
			t.Skipf("%s is missing (apt-get install openssh-client)", tool)
		}
	}
	bins, err := witnessBins()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), name, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	key, sock, db := filepath.Join(dir, "key"), filepath.Join(dir, "agent.sock"), filepath.Join(dir, "witness.db")
	run(nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", key)
	agent, err := testproc.StartProcess(exec.CommandContext(t.Context(), "ssh-agent", "-D", "-a", sock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Stop(syscall.SIGTERM, 5*time.Second) })
	if err := agent.WaitReady(t.Context(), 10*time.Second, 20*time.Millisecond, func(context.Context) error {
		_, err := os.Stat(sock)
		return err
	}); err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	run([]string{"SSH_AUTH_SOCK=" + sock}, "ssh-add", "-q", key)
	fingerprint := strings.Fields(run(nil, "ssh-keygen", "-l", "-E", "sha256", "-f", key+".pub"))[1]
	run(nil, filepath.Join(bins, "witnessctl"), "add-log", "-db", db, "-origin", origin)
	run(nil, filepath.Join(bins, "witnessctl"), "add-key", "-db", db, "-origin", origin, "-key", logKey)

	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.CommandContext(t.Context(), filepath.Join(bins, "litewitness"), "-db", db, "-name", "witness.test/"+filepath.Base(dir),
		"-key", fingerprint, "-ssh-agent", sock, "-listen", addr)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	proc, err := testproc.StartProcess(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proc.Stop(syscall.SIGTERM, 5*time.Second) })
	vkeys := make(chan string, 1)
	go func() { // its log says its verifier key; the rest is drained
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, vkey, ok := strings.Cut(sc.Text(), "vkey="); ok {
				select {
				case vkeys <- vkey:
				default:
				}
			}
		}
	}()
	w := litewitness{url: "http://" + addr}
	if err := proc.WaitReady(t.Context(), 20*time.Second, 20*time.Millisecond, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("litewitness: %v", err)
	}
	select {
	case w.vkey = <-vkeys:
	case <-time.After(10 * time.Second):
		t.Fatal("litewitness did not log its verifier key")
	}
	return w
}

// cosignedBy checks that cp carries a valid cosignature of the witness.
func cosignedBy(t *testing.T, cp eventstore.MerkleCheckpoint, w litewitness) {
	t.Helper()
	v, err := integrity.NewWitnessVerifier(w.vkey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := integrity.CheckCosignatures(cp.Signed(), []note.Verifier{v}, 1); err != nil || n != 1 {
		t.Fatalf("checkpoint %d, cosignatures %q: %d verified, %v", cp.Size, cp.Cosignatures, n, err)
	}
}

// A real witness cosigns the log's checkpoints as the log grows, across a
// restart of the log; a log of the same origin that shows it another tree
// gets no cosignature.
func TestWitnessCosigns(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		logKey := newLog(t, s, 0, time.Hour).Keys().Log[0]
		w := startLitewitness(t, logKey)
		witness := translog.Witness{Key: w.vkey, URL: w.url}

		// The checkpoint loop submits each new checkpoint.
		b := &bundle{store: s, log: newLog(t, s, 0, 20*time.Millisecond, witness)}
		b.run(t)
		appendTask(t, s, 3, false)
		waitCosigned := func(size int64) eventstore.MerkleCheckpoint {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				cp, found, err := s.MerkleCheckpointLatest(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if found && cp.Size == size && len(cp.Cosignatures) > 0 {
					return cp
				}
				if time.Now().After(deadline) {
					t.Fatalf("no cosigned checkpoint of size %d within 20s (latest: %d, cosignatures %q)", size, cp.Size, cp.Cosignatures)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		cosignedBy(t, waitCosigned(3), w)
		appendTask(t, s, 5, false) // from 3 to 8: with a consistency proof
		cosignedBy(t, waitCosigned(8), w)

		// A log started again reads the size the witness cosigned from
		// the store and goes on from there.
		again := newLog(t, s, 0, time.Hour, witness)
		appendTask(t, s, 2, false)
		waitTree(t, s, 10)
		cp, err := again.CheckpointNow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if errs := translog.SubmitToWitnesses(t.Context(), again, cp); errs[0] != nil {
			t.Fatalf("submit after a restart: %v", errs[0])
		}
		cp, _, _ = s.MerkleCheckpointGet(t.Context(), 10)
		cosignedBy(t, cp, w)

		// Another store, signed with the same key, shows the witness a
		// tree of 12 leaves that does not extend the one it cosigned.
		other := teststores.Engines[0].Open(t, eventstore.Options{})
		forked := newLog(t, other, 0, time.Hour, witness)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); _ = forked.Run(ctx) }()
		appendTask(t, other, 12, false)
		waitTree(t, other, 12)
		cancel()
		<-done
		fcp, err := forked.CheckpointNow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		errs := translog.SubmitToWitnesses(t.Context(), forked, fcp)
		if errs[0] == nil || !strings.Contains(errs[0].Error(), "422") {
			t.Fatalf("a split view submitted: %v, want the witness's 422 (bad consistency proof)", errs[0])
		}
		if cp, _, _ := other.MerkleCheckpointGet(t.Context(), 12); len(cp.Cosignatures) != 0 {
			t.Fatalf("the split view got cosignatures %q", cp.Cosignatures)
		}
	})
}
