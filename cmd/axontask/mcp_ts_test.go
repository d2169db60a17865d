package main

import (
	"bytes"
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

// tsClientDir holds the TypeScript MCP client and its locked dependencies.
var tsClientDir = filepath.Join("testdata", "mcp-ts")

// An MCP client we did not write, the official TypeScript SDK, connects to
// a real dev process over Streamable HTTP and over stdio (axontask mcp),
// lists the tools, follows a shell task to its end with read_task_events,
// verifies it, cancels another and checks every tool's error path, then,
// through the SDK's experimental tasks client, runs start_task as an MCP
// task to its end, reads its result, cancels another and lists them (and,
// over stdio, hears notifications/tasks/status), and over HTTP with a
// wrong key reports the server's 401 (see
// testdata/mcp-ts/client.mjs). It needs Node.js and the npm registry;
// without Node it skips, except in CI, which must have it.
func TestMCPTypeScriptClient(t *testing.T) {
	t.Parallel()
	node := testnode.Node(t, tsClientDir, "the TypeScript MCP client test")
	dev := startDev(t, nil)
	base, key := dev.base, dev.key
	for _, mode := range []string{"http", "stdio"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "client.mjs", mode)
			cmd.Dir = tsClientDir
			cmd.Env = append(os.Environ(), "AXONTASK_URL="+base, "AXONTASK_API_KEY="+key, "AXONTASK_BIN="+binary(t))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("node client.mjs %s: %v\nstdout:\n%s\nstderr:\n%s", mode, err, stdout.String(), stderr.String())
			}
			var seen struct {
				ProtocolVersion string   `json:"protocolVersion"`
				Unauthorized    string   `json:"unauthorized"`
				Tools           []string `json:"tools"`
				Events          int      `json:"events"`
				ErrorPaths      int      `json:"errorPaths"`
				Tasks           struct {
					Polls         int `json:"polls"`
					Listed        int `json:"listed"`
					Notifications int `json:"notifications"`
					Progress      int `json:"progress"`
				} `json:"tasks"`
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &seen); err != nil || seen.ProtocolVersion == "" {
				t.Fatalf("the client's report %q: %v", stdout.String(), err)
			}
			t.Logf("TypeScript SDK over %s negotiated MCP protocol version %s (tasks utility, capabilities.tasks); %d tools, %d events followed, %d error paths; a task polled %d times, %d tasks listed, %d notifications/tasks/status, %d progress notifications of the task",
				mode, seen.ProtocolVersion, len(seen.Tools), seen.Events, seen.ErrorPaths, seen.Tasks.Polls, seen.Tasks.Listed, seen.Tasks.Notifications, seen.Tasks.Progress)
			if mode == "http" {
				t.Logf("with a wrong key the SDK reports: %s", seen.Unauthorized)
			}
		})
	}
}
