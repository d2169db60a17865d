package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/axontask/axontask/projections"
)

// runProjections handles "axontask projections rebuild": it drops the read
// models and rebuilds them from the event store, the only source of truth.
func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return usageError(`usage: axontask projections rebuild [-database-url URL | -sqlite FILE]`)
	}
	fs := flag.NewFlagSet("projections rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	s, err := sf.open(ctx, newLogger(stderr))
	if err != nil {
		return fmt.Errorf("projections: %w", err)
	}
	defer func() { _ = s.Close() }()
	for _, p := range []projections.Projection{projections.TaskViews(s), s.UsageCounters()} {
		r, err := projections.NewRunner(s, p, projections.RunnerConfig{Logger: newLogger(stderr)})
		if err != nil {
			return fmt.Errorf("projections: %w", err)
		}
		if err := r.Rebuild(ctx); err != nil {
			return fmt.Errorf("projections: rebuild: %w", err)
		}
		fmt.Fprintln(stdout, "rebuilt "+p.Name())
	}
	return nil
}
