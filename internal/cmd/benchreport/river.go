package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/axontask/axontask/internal/testpg"
)

// River's configs, as bench/river names them: River's defaults
// (FetchCooldown 100 ms, FetchPollInterval 1 s) and the tuned one
// (FetchCooldown 1 ms, FetchPollInterval 50 ms).
const (
	riverDefault = "default"
	riverTuned   = "tuned"
)

// riverWorkers is River's MaxWorkers in every comparison: AxonTask's slots
// in the same comparison (2 workers × 8).
const riverWorkers = 16

// riverResult is the JSON line bench/river prints.
type riverResult struct {
	Shape   string  `json:"shape"`
	Config  string  `json:"config"`
	Jobs    int64   `json:"jobs"`
	PerSec  float64 `json:"jobs_per_s"`
	P50MS   float64 `json:"p50_ms"`
	P99MS   float64 `json:"p99_ms"`
	Seconds float64 `json:"seconds"`
}

// p50 and p99 are the latency shape's percentiles as durations.
func (r riverResult) p50() time.Duration { return time.Duration(r.P50MS * float64(time.Millisecond)) }
func (r riverResult) p99() time.Duration { return time.Duration(r.P99MS * float64(time.Millisecond)) }

// riverRun is River's side of the comparisons: bench/river, a module of
// its own, built once per run and run as a process of its own on a
// database of its own on the run's Postgres (River's tables, truncated by
// each run). Its zero value is ready; close it when done.
type riverRun struct {
	once            sync.Once
	err             error
	dir, bin, dbURL string
	drop            func() error
}

// river runs bench/river's shape with config on b's Postgres, with the
// flags args besides, and returns what it printed.
func (b *bench) river(ctx context.Context, shape, config string, args ...string) (riverResult, error) {
	r := &b.riverRun
	r.once.Do(func() { r.err = r.prepare(ctx, b.srv.admin) })
	if r.err != nil {
		return riverResult{}, r.err
	}
	args = append([]string{"-database-url", r.dbURL, "-shape", shape, "-config", config, "-workers", strconv.Itoa(riverWorkers)}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return riverResult{}, fmt.Errorf("bench/river %s: %w: %s", strings.Join(args[2:], " "), err, strings.TrimSpace(stderr.String()))
	}
	var res riverResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return riverResult{}, fmt.Errorf("bench/river printed %q, not its JSON line: %w", stdout.String(), err)
	}
	return res, nil
}

// prepare builds bench/river and creates River's database on admin.
func (r *riverRun) prepare(ctx context.Context, admin string) error {
	src, err := riverModuleDir(ctx)
	if err != nil {
		return err
	}
	if r.dir, err = os.MkdirTemp("", "benchreport-river-"); err != nil {
		return err
	}
	r.bin = filepath.Join(r.dir, "river")
	// River's module downloads through the module proxy on a fresh
	// machine; GOWORK=off keeps a workspace of the caller's out of it.
	build := exec.CommandContext(ctx, "go", "build", "-o", r.bin, ".")
	build.Dir, build.Env = src, append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build bench/river (River's module comes through the Go module proxy): %w\n%s", err, out)
	}
	if r.dbURL, r.drop, err = testpg.CreateDatabase(ctx, admin); err != nil {
		return fmt.Errorf("create River's database: %w", err)
	}
	return nil
}

// riverModuleDir finds bench/river beside AxonTask's go.mod, from the
// working directory make bench and the package's tests run in.
func riverModuleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run benchreport inside AxonTask's source tree: bench/river is built from it")
	}
	return filepath.Join(filepath.Dir(gomod), "bench", "river"), nil
}

// close drops River's database and removes its binary.
func (r *riverRun) close() {
	if r.drop != nil {
		_ = r.drop()
	}
	if r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}
