// Package testnode gives tests Node.js and the locked npm dependencies of
// a directory of theirs, for the tests that check AxonTask against other
// people's JavaScript (the official MCP SDK, the Standard Webhooks
// library, the second verifier).
package testnode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Node returns the path of node, with the locked dependencies of dir
// installed (npm ci, once per checkout: it is skipped while node_modules
// is newer than package-lock.json, and runs once per process however many
// tests ask). Without Node the test is skipped, except in CI (CI set),
// which must have it; what names what needs it.
func Node(t testing.TB, dir, what string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must have Node.js for %s; .ci/run installs it", what)
		}
		t.Skip("Node.js is not installed: apt-get install -y nodejs npm")
	}
	if err := install(dir); err != nil {
		t.Fatal(err)
	}
	return node
}

// installs maps a directory to its install, done once per process.
var (
	mu       sync.Mutex
	installs = map[string]func() error{}
)

func install(dir string) error {
	mu.Lock()
	once, ok := installs[dir]
	if !ok {
		once = sync.OnceValue(func() error { return npmCI(dir) })
		installs[dir] = once
	}
	mu.Unlock()
	return once()
}

// npmCI installs dir's locked dependencies unless node_modules is current.
func npmCI(dir string) error {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	if mod, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && mod.ModTime().After(lock.ModTime()) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
	}
	return nil
}
