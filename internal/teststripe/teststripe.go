// Package teststripe gives tests stripe-mock, Stripe's own API double, as
// a process of their own. It is built once per machine from the version
// pinned in tools/stripemock/go.mod (a module of its own, so that it never
// becomes a dependency of AxonTask's), into the user's cache directory.
package teststripe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testproc"
)

// version is stripe-mock's version in tools/stripemock/go.mod; the built
// binary is named after it, so a new pin builds anew.
const version = "v0.203.0"

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// URL starts a stripe-mock for t alone, stopped when t ends, and returns
// its HTTP address (http://127.0.0.1:port), to be given to the Stripe
// client as its API URL.
func URL(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { binary, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("stripe-mock: %v", buildErr)
	}
	cmd := exec.CommandContext(context.Background(), binary, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := testproc.StartProcess(cmd)
	if err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() { p.Stop(syscall.SIGTERM, 5*time.Second) })
	addr := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if a, ok := strings.CutPrefix(lines.Text(), "Listening for HTTP at address: "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		base := "http://" + a
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.WaitReady(ctx, 30*time.Second, 50*time.Millisecond, func(ctx context.Context) error { return ping(ctx, base) }); err != nil {
			t.Fatalf("stripe-mock: %v", err)
		}
		return base
	case <-time.After(60 * time.Second):
		t.Fatal("stripe-mock did not say where it listens within 60 s")
		return ""
	}
}

// ping asks stripe-mock for a resource: any answer means it serves.
func ping(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/customers", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	return nil
}

// build builds stripe-mock into the cache directory, unless it is there.
func build() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "axontask-test", "stripe-mock-"+version)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	modfile, err := toolsModfile()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
	cmd := exec.CommandContext(context.Background(), "go", "build", "-modfile", modfile, "-o", tmp, "github.com/stripe/stripe-mock")
	cmd.Dir = filepath.Dir(modfile)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build it (go build -modfile %s github.com/stripe/stripe-mock): %w\n%s", modfile, err, out)
	}
	return bin, os.Rename(tmp, bin) // atomic: a parallel build of the same version wins alike
}

// toolsModfile finds tools/stripemock/go.mod above the working directory.
func toolsModfile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "tools", "stripemock", "go.mod")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tools/stripemock/go.mod not found above the working directory")
		}
		dir = parent
	}
}
