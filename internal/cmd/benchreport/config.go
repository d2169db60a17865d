package main

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// config is one run's settings, from the command line.
type config struct {
	sizes
	// smoke marks a smoke run: smokeSizes, and a report that says its
	// figures are not to be compared.
	smoke bool
	// cpuProfile, when set, receives a CPU profile of this process.
	cpuProfile string
	// only, when set, names the one step to run.
	only string
}

// sizes is how much work each step does: the one place a step's scale is
// set. A full run (make bench) uses fullSizes; a smoke run (-smoke, and
// TestSmoke in make test) uses smokeSizes, which takes every step end to
// end, with all its checks, in seconds.
type sizes struct {
	// rounds is how many alternating rounds each comparison runs (the
	// median is reported), each roundTime long; verify repeats rounds times.
	rounds    int
	roundTime time.Duration
	// verifyEvents is the length of the log the verify step checks.
	verifyEvents int
	// sealerBacklog is how many committed events the sealer step seals
	// from scratch.
	sealerBacklog int
	// dispatchRate is the dispatch step's starts per second, kept up for
	// dispatchSeconds.
	dispatchRate, dispatchSeconds int
	// startClients are the counts of closed-loop clients the throughput
	// step measures one start per request with, a comparison each.
	startClients []int
	// drainTasks no-op tasks are started drainBatch a request and drained,
	// drainRounds times, alternating with as many River jobs (River tuned
	// each round, River's defaults in the first).
	drainTasks, drainBatch, drainRounds int
	// liveClients SSE clients follow tasks that append livePerSecond
	// events/s each for liveSeconds, once liveWarmUp has let them connect;
	// one live run per entry of liveTasks, each of which must divide
	// liveClients.
	liveClients, livePerSecond, liveSeconds int
	liveTasks                               []int
	liveWarmUp                              time.Duration
	// fanOutStreams idle SSE streams are opened on fanOutTasks tasks; the
	// memory is measured again after fanOutSettle.
	fanOutStreams, fanOutTasks int
	fanOutSettle               time.Duration
	// sandboxRuns is how many `true` tasks each side of the sandbox step
	// runs per round.
	sandboxRuns int
	// cancelTasks is how many noisy tasks the cancel step cancels.
	cancelTasks int
	// recoveryRounds is how many times the recovery step restarts each
	// dependency, keeping it down for recoveryDown.
	recoveryRounds int
	recoveryDown   time.Duration
	// webhookRate events/s go to one endpoint for webhookSeconds; then a
	// burst of webhookBurst events goes to webhookEndpoints endpoints.
	webhookRate, webhookSeconds    int
	webhookBurst, webhookEndpoints int
	// translogLeaves is the size of the tree the transparency log step
	// proves in; translogVerifyEvents the length of the export with
	// proofs it verifies.
	translogLeaves, translogVerifyEvents int
}

// fullSizes are the sizes of make bench, the run docs/benchmarks.md reports.
var fullSizes = sizes{
	rounds: 5, roundTime: 3 * time.Second,
	verifyEvents:  1_000_000,
	sealerBacklog: 200_000,
	dispatchRate:  100, dispatchSeconds: 10,
	startClients: []int{8, 64},
	drainTasks:   50_000, drainBatch: 1000, drainRounds: 2,
	liveClients: 1000, livePerSecond: 20, liveSeconds: 10, liveTasks: []int{50, 500}, liveWarmUp: time.Second,
	// Past the runtime's forced collection (every 2 min).
	fanOutStreams: 10_000, fanOutTasks: 100, fanOutSettle: 150 * time.Second,
	sandboxRuns:    30,
	cancelTasks:    10,
	recoveryRounds: 3, recoveryDown: 2 * time.Second,
	webhookRate: 100, webhookSeconds: 10, webhookBurst: 100, webhookEndpoints: 100,
	translogLeaves: 10_000_000, translogVerifyEvents: 100_000,
}

// smokeSizes are the sizes of a smoke run: every step, with the shape of
// the full run (several clients per task, several tasks per shape), at a
// scale that checks only that the step still runs and its checks pass.
var smokeSizes = sizes{
	rounds: 1, roundTime: 250 * time.Millisecond,
	verifyEvents:  10_000,
	sealerBacklog: 2_000,
	dispatchRate:  20, dispatchSeconds: 1,
	startClients: []int{2, 8},
	drainTasks:   250, drainBatch: 100, drainRounds: 1,
	liveClients: 20, livePerSecond: 10, liveSeconds: 1, liveTasks: []int{2, 10}, liveWarmUp: 200 * time.Millisecond,
	fanOutStreams: 20, fanOutTasks: 2, fanOutSettle: time.Second,
	sandboxRuns:    3,
	cancelTasks:    2,
	recoveryRounds: 1, recoveryDown: 300 * time.Millisecond,
	webhookRate: 20, webhookSeconds: 1, webhookBurst: 3, webhookEndpoints: 5,
	translogLeaves: 3_000, translogVerifyEvents: 1_000,
}

// parseConfig reads a run's settings from args (the command line without
// the program's name). -rounds, -round-time and -verify-events, when
// given, override the sizes -smoke picks.
func parseConfig(args []string) (config, error) {
	fs := flag.NewFlagSet("benchreport", flag.ExitOnError)
	var cfg config
	var given sizes
	fs.BoolVar(&cfg.smoke, "smoke", false, "run every step once at a tiny scale, to check that it works; the figures are not to be compared")
	fs.IntVar(&given.rounds, "rounds", fullSizes.rounds, fmt.Sprintf("alternating rounds per comparison (the median is reported; %d with -smoke)", smokeSizes.rounds))
	fs.DurationVar(&given.roundTime, "round-time", fullSizes.roundTime, fmt.Sprintf("length of one measured round (%s with -smoke)", smokeSizes.roundTime))
	fs.IntVar(&given.verifyEvents, "verify-events", fullSizes.verifyEvents, fmt.Sprintf("events in the verification benchmark (%d with -smoke)", smokeSizes.verifyEvents))
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&cfg.only, "only", "", "run one step only: append, single, sealer, dispatch, throughput, drain, live, fanout, verify, sandbox, cancel, recovery, webhooks or translog")
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("parse flags: %w", err)
	}
	cfg.sizes = fullSizes
	if cfg.smoke {
		cfg.sizes = smokeSizes
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "rounds":
			cfg.rounds = given.rounds
		case "round-time":
			cfg.roundTime = given.roundTime
		case "verify-events":
			cfg.verifyEvents = given.verifyEvents
		}
	})
	if cfg.rounds < 1 || cfg.roundTime <= 0 || cfg.verifyEvents < 1 {
		return config{}, errors.New("-rounds, -round-time and -verify-events must be positive")
	}
	return cfg, nil
}
