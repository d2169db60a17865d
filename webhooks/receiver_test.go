package webhooks_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testnode"
)

// receiverDir holds the Node receiver and its locked dependencies.
var receiverDir = filepath.Join("testdata", "receiver")

// installReceiver returns node, with the receiver's dependencies
// installed (testnode.Node).
func installReceiver(t *testing.T) string {
	t.Helper()
	return testnode.Node(t, receiverDir, "the standardwebhooks receiver")
}

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
