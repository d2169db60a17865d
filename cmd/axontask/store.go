package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/projections"
)

// storeFlags chooses the event store a command works on.
type storeFlags struct {
	databaseURL string
	sqlitePath  string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "Postgres URL (default $DATABASE_URL)")
	fs.StringVar(&f.sqlitePath, "sqlite", "", "path of an embedded SQLite store instead of Postgres")
}

func (f *storeFlags) validate() error {
	switch {
	case f.sqlitePath != "" && f.databaseURL != "" && f.databaseURL != os.Getenv("DATABASE_URL"):
		return usageError("give either -database-url or -sqlite, not both")
	case f.sqlitePath == "" && f.databaseURL == "":
		return usageError("no store: set DATABASE_URL or pass -database-url postgres://… or -sqlite FILE")
	}
	return nil
}

// localStore is what the store commands (migrate, export, projections,
// tenants) work on: the event log, the task list read model and the
// transparency log's tree beside it. Both engines' concrete stores have it.
type localStore interface {
	eventstore.Store
	projections.TaskViewStore
	eventstore.MerkleStore
	eventstore.TenantSecretStore
	// UsageCounters returns the usage counters projection.
	UsageCounters() projections.Projection
}

// open opens the chosen store. A Postgres store opened here does not seal:
// these commands only read, and must not take the sealer role from servers.
func (f *storeFlags) open(ctx context.Context, logger *slog.Logger) (localStore, error) {
	opts := eventstore.Options{Logger: logger}
	if f.sqlitePath != "" {
		return sqlite.Open(ctx, f.sqlitePath, opts)
	}
	return postgres.Open(ctx, f.databaseURL, postgres.Config{Options: opts, DisableSealer: true})
}

func usageError(msg string) error {
	return &exitError{exitUsage, errors.New(msg)}
}

// errHelpShown stops a command after its -h output; it is not a failure.
var errHelpShown = errors.New("help shown")

// parseFlags parses a subcommand's flags. It returns errHelpShown after -h
// and a usage error for bad flags or more than maxArgs arguments.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &exitError{exitUsage, err}
	}
	if fs.NArg() > maxArgs {
		return usageError(fmt.Sprintf("%s takes at most %d argument(s), got %q", fs.Name(), maxArgs, fs.Args()))
	}
	return nil
}

// newLogger returns the process's text logger, writing to w.
// LOG_LEVEL (debug, info, warn or error; default info) sets the level.
func newLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	bad := level.UnmarshalText([]byte(envOr("LOG_LEVEL", "info")))
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	if bad != nil {
		logger.Warn("LOG_LEVEL is not one of debug, info, warn, error; logging at info", "LOG_LEVEL", os.Getenv("LOG_LEVEL"))
	}
	return logger
}
