package webhooks_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiverDir holds the Node receiver and its locked dependencies.
var receiverDir = filepath.Join("testdata", "receiver")

// installReceiver installs the receiver's dependencies from its lockfile,
// once per checkout (skipped when node_modules is current). Without Node
// the test skips, except in CI, which must have it.
func installReceiver(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must have Node.js for the standardwebhooks receiver; .ci/run installs it")
		}
		t.Skip("Node.js is not installed: apt-get install -y nodejs npm")
	}
	installOnce.Do(func() {
		lock, err := os.Stat(filepath.Join(receiverDir, "package-lock.json"))
		if err != nil {
			installErr = err
			return
		}
		if mod, err := os.Stat(filepath.Join(receiverDir, "node_modules", ".package-lock.json")); err == nil && mod.ModTime().After(lock.ModTime()) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = receiverDir
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = &exec.Error{Name: "npm ci: " + string(out), Err: err}
		}
	})
	if installErr != nil {
		t.Fatal(installErr)
	}
	return node
}

var (
	installOnce sync.Once
	installErr  error
)

// verdict is one request the Node receiver saw.
type verdict struct {
	ID       string `json:"id"`
	Verified []bool `json:"verified"`
	EventID  string `json:"event_id"`
	Error    string `json:"error"`
}

// nodeReceiver is a receiver that verifies with the standardwebhooks npm
// library, holding each of secrets as a receiver of its own would.
type nodeReceiver struct {
	URL      string
	Verdicts chan verdict
}

// startNodeReceiver starts the Node receiver until the test ends.
func startNodeReceiver(t *testing.T, secrets ...string) *nodeReceiver {
	t.Helper()
	node := installReceiver(t)
	cmd := exec.CommandContext(context.Background(), node, "receiver.mjs") // killed at cleanup, after t.Context ends
	cmd.Dir = receiverDir
	cmd.Env = append(os.Environ(), "SECRETS="+strings.Join(secrets, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "listening ") {
		t.Fatalf("the Node receiver did not start: %q", lines.Text())
	}
	r := &nodeReceiver{URL: "http://127.0.0.1:" + strings.TrimPrefix(lines.Text(), "listening ") + "/hook", Verdicts: make(chan verdict, 1000)}
	go func() {
		for lines.Scan() {
			var v verdict
			if err := json.Unmarshal(lines.Bytes(), &v); err == nil {
				r.Verdicts <- v
			}
		}
	}()
	return r
}

// next returns the receiver's next verdict, failing after a while.
func (r *nodeReceiver) next(t *testing.T) verdict {
	t.Helper()
	select {
	case v := <-r.Verdicts:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("the Node receiver saw no request in 30 s")
		return verdict{}
	}
}
