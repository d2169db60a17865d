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
)

// tsClientDir holds the TypeScript MCP client and its locked dependencies.
var tsClientDir = filepath.Join("testdata", "mcp-ts")

// An MCP client we did not write, the official TypeScript SDK, connects to
// a real dev process over Streamable HTTP and over stdio (axontask mcp),
// lists the tools, follows a shell task to its end with read_task_events,
// verifies it, cancels another and checks every tool's error path (see
// testdata/mcp-ts/client.mjs). It needs Node.js and the npm registry;
// without Node it skips, except in CI, which must have it.
func TestMCPTypeScriptClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must have Node.js for the TypeScript MCP client test; .ci/run installs it")
		}
		t.Skip("Node.js is not installed: apt-get install -y nodejs npm")
	}
	installTSClient(t)
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
				Tools           []string `json:"tools"`
				Events          int      `json:"events"`
				ErrorPaths      int      `json:"errorPaths"`
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &seen); err != nil || seen.ProtocolVersion == "" {
				t.Fatalf("the client's report %q: %v", stdout.String(), err)
			}
			t.Logf("TypeScript SDK over %s negotiated MCP protocol version %s; %d tools, %d events followed, %d error paths",
				mode, seen.ProtocolVersion, len(seen.Tools), seen.Events, seen.ErrorPaths)
		})
	}
}

// installTSClient installs the TypeScript client's dependencies from its
// lockfile, once per checkout (npm ci is skipped when node_modules is
// current).
func installTSClient(t *testing.T) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(tsClientDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if mod, err := os.Stat(filepath.Join(tsClientDir, "node_modules", ".package-lock.json")); err == nil && mod.ModTime().After(lock.ModTime()) {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = tsClientDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", tsClientDir, err, out)
	}
}
