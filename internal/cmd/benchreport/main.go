// Command benchreport runs AxonTask's event-store benchmarks against one
// durable Postgres (fsync on) in one run and prints them as the Markdown
// table of docs/benchmarks.md. Disk sync speed varies several-fold from hour
// to hour on shared machines, so every figure that depends on it is paired
// with a baseline measured in the same run, and rounds alternate between the
// baseline and the store so that drift hits both alike.
//
// It uses AXONTASK_BENCH_DATABASE_URL (an admin URL; a database is created
// and dropped) or starts a throwaway server like the tests do.
package main

import (
	"context"
	"flag"
	"fmt"
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
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

type config struct {
	rounds    int
	roundTime time.Duration
	verifyN   int
	// cpuProfile, when set, receives a CPU profile of this process.
	cpuProfile string
	// only, when set, names the one step to run.
	only string
}

func run(ctx context.Context) error {
	var cfg config
	flag.IntVar(&cfg.rounds, "rounds", 5, "alternating rounds per comparison (the median is reported)")
	flag.DurationVar(&cfg.roundTime, "round-time", 3*time.Second, "length of one measured round")
	flag.IntVar(&cfg.verifyN, "verify-events", 1_000_000, "events in the verification benchmark")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	flag.StringVar(&cfg.only, "only", "", "run one step only: append, single, sealer, dispatch, throughput, live, fanout, verify, sandbox or cancel")
	flag.Parse()

	admin := os.Getenv("AXONTASK_BENCH_DATABASE_URL")
	if admin == "" {
		srv, err := testpg.Start(testpg.Durable)
		if err != nil {
			return fmt.Errorf("start postgres (or set AXONTASK_BENCH_DATABASE_URL): %w", err)
		}
		defer srv.Close()
		admin = srv.AdminURL()
	}
	dbURL, drop, err := testpg.CreateDatabase(ctx, admin)
	if err != nil {
		return err
	}
	defer func() { _ = drop() }()

	b, err := newBench(ctx, dbURL, cfg)
	if err != nil {
		return err
	}
	b.admin = admin
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
	steps := []struct {
		name string
		run  func(context.Context) ([]row, error)
	}{
		{"append", b.batchedAppends}, {"single", b.concurrentSingleAppends}, {"sealer", b.sealerCatchUp},
		{"dispatch", b.dispatch}, {"throughput", b.throughput}, {"live", b.live}, {"fanout", b.fanOut}, {"verify", b.verify},
		{"sandbox", b.sandboxCost}, {"cancel", b.cancelNoisy},
	}
	for _, step := range steps {
		if cfg.only != "" && cfg.only != step.name {
			continue
		}
		r, err := step.run(ctx)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	printReport(ctx, b, rows, cfg)
	return nil
}

// row is one line of the report.
type row struct {
	name, value, target, note string
}

func printReport(ctx context.Context, b *bench, rows []row, cfg config) {
	fmt.Printf("Run on %s: %d cores (%s), %s, Go %s.\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), cpuModel(), b.pgVersion(ctx), strings.TrimPrefix(runtime.Version(), "go"))
	fmt.Printf("Command: `make bench` (%d alternating rounds of %s; medians).\n\n", cfg.rounds, cfg.roundTime)
	fmt.Println("| measurement | result | target | note |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, r.value, r.target, r.note)
	}
}

func cpuModel() string {
	out, err := exec.CommandContext(context.Background(), "sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").Output()
	if err != nil {
		return "unknown CPU"
	}
	return strings.TrimSpace(string(out))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
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
