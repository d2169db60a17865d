package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	// Opening a store applies every pending migration under a lock.
	s, err := sf.open(ctx, newLogger(stderr))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintln(stdout, "schema is current")
	return nil
}
