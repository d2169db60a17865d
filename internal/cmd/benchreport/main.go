// Command benchreport runs AxonTask's event-store benchmarks against one
// durable Postgres (fsync on) in one run and prints them as the Markdown
// table of docs/benchmarks.md. Disk sync speed varies several-fold from hour
// to hour on shared machines, so every figure that depends on it is paired
// with a baseline measured in the same run, and rounds alternate between the
// baseline and the store so that drift hits both alike.
//
// It uses AXONTASK_BENCH_DATABASE_URL (an admin URL; a database is created
// and dropped) or starts a throwaway server like the tests do, and
// AXONTASK_BENCH_REDIS_URL or a throwaway Redis per production-path step.
//
// With -smoke it runs every step once at a tiny scale (smokeSizes), with
// all of each step's checks, in seconds; make test runs that through
// TestSmoke, on the tests' servers, so that no step breaks unnoticed. A
// smoke run's report says that its figures are not to be compared.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/internal/testpg"
)

func main() {
	sandbox.Init() // the sandbox step's tasks run this binary as their init
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// run reads the settings from args, finds the servers (the environment's,
// or a throwaway durable Postgres) and writes the report to w.
func run(ctx context.Context, args []string, w io.Writer) error {
	cfg, err := parseConfig(args)
	if err != nil {
		return err
	}
	srv := servers{admin: os.Getenv("AXONTASK_BENCH_DATABASE_URL"), redis: os.Getenv("AXONTASK_BENCH_REDIS_URL")}
	if srv.admin == "" {
		pg, err := testpg.Start(testpg.Durable)
		if err != nil {
			return fmt.Errorf("start postgres (or set AXONTASK_BENCH_DATABASE_URL): %w", err)
		}
		defer pg.Close()
		srv.admin = pg.AdminURL()
	}
	return report(ctx, srv, cfg, w)
}

// servers are what a run measures on.
type servers struct {
	// admin is a Postgres admin URL: each use creates a database of its
	// own there, and drops it.
	admin string
	// redis, when set, is the Redis of every production-path step, each
	// under a key prefix of its own; when empty, each of those steps
	// starts a throwaway Redis of its own.
	redis string
}

// report runs the steps cfg names on srv and writes their table to w; the
// first step that fails ends the run with its error.
func report(ctx context.Context, srv servers, cfg config, w io.Writer) error {
	dbURL, drop, err := testpg.CreateDatabase(ctx, srv.admin)
	if err != nil {
		return fmt.Errorf("create the benchmark database: %w", err)
	}
	defer func() { _ = drop() }()

	b, err := newBench(ctx, dbURL, srv, cfg)
	if err != nil {
		return err
	}
	defer b.close()

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rows []row
	for _, step := range b.steps() {
		if cfg.only != "" && cfg.only != step.name {
			continue
		}
		r, err := step.run(ctx)
		if err != nil {
			return fmt.Errorf("step %s: %w", step.name, err)
		}
		rows = append(rows, r...)
	}
	printReport(ctx, w, b, rows, cfg)
	return nil
}

// step is one step of the report, by the name -only takes.
type step struct {
	name string
	run  func(context.Context) ([]row, error)
}

// steps lists the report's steps in the order they run and print.
func (b *bench) steps() []step {
	return []step{
		{"append", b.batchedAppends}, {"single", b.concurrentSingleAppends}, {"sealer", b.sealerCatchUp},
		{"dispatch", b.dispatch}, {"throughput", b.throughput}, {"drain", b.drain}, {"live", b.live}, {"fanout", b.fanOut}, {"verify", b.verify},
		{"sandbox", b.sandboxCost}, {"cancel", b.cancelNoisy}, {"recovery", b.recovery},
		{"webhooks", b.webhooks}, {"translog", b.transparencyLog},
	}
}

// row is one line of the report.
type row struct {
	name, value, target, note string
}

// smokeNotice heads a smoke run's report.
const smokeNotice = "**Smoke run** (`benchreport -smoke`): every step end to end at a tiny scale, to check that it runs and its checks pass. Its figures measure nothing: do not compare them with anything."

func printReport(ctx context.Context, w io.Writer, b *bench, rows []row, cfg config) {
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
	p("Run on %s: %d cores (%s), %s, Go %s.\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), cpuModel(), b.pgVersion(ctx), strings.TrimPrefix(runtime.Version(), "go"))
	if cfg.smoke {
		p("%s\n\n", smokeNotice)
	} else {
		p("Command: `make bench` (%d alternating rounds of %s; medians).\n\n", cfg.rounds, cfg.roundTime)
	}
	p("| measurement | result | target | note |\n")
	p("|---|---|---|---|\n")
	for _, r := range rows {
		p("| %s | %s | %s | %s |\n", r.name, r.value, r.target, r.note)
	}
}

func cpuModel() string {
	out, err := exec.CommandContext(context.Background(), "sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").Output()
	if err != nil {
		return "unknown CPU"
	}
	return strings.TrimSpace(string(out))
}

// median is the middle value of xs, or the mean of the two middle ones.
func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// medianRatio is the median of the per-round ratios a[i]/b[i]: rounds
// alternate, so each pair ran under the same disk conditions.
func medianRatio(a, b []float64) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i] / b[i]
	}
	return median(r)
}

// ratios lists the per-round ratios, for the reader to judge the spread.
func ratios(a, b []float64) string {
	parts := make([]string, len(a))
	for i := range a {
		parts[i] = fmt.Sprintf("%.0f %%", 100*a[i]/b[i])
	}
	return "rounds: " + strings.Join(parts, ", ")
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
