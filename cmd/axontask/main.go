// Command axontask is AxonTask's one binary: the embedded dev server, schema
// migrations, and the auditor's export and offline verification.
//
// Usage:
//
//	axontask dev      [-data-dir DIR]                    everything in one process, embedded store
//	axontask serve                                        API process (Postgres + Redis)
//	axontask worker                                       worker process (Postgres + Redis)
//	axontask migrate  [-database-url URL | -sqlite FILE]  apply schema migrations
//	axontask tenants  plans | set-plan [-database-url URL | -sqlite FILE] TENANT PLAN
//	axontask export   [-database-url URL | -sqlite FILE] [-stream ID] [-from POS]
//	axontask verify   [FILE]                               verify an export offline (stdin by default)
//	axontask mcp      [-url URL]                           MCP server on stdio (key: AXONTASK_API_KEY)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitError carries a process exit code out of run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes scripts can rely on.
const (
	exitOK       = 0
	exitFailed   = 1 // the operation ran and its answer is "no" (verification failed)
	exitUsage    = 2 // bad flags or arguments
	exitInternal = 3 // I/O, database or other errors
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errHelpShown) {
		fmt.Fprintln(os.Stderr, "axontask:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(exitInternal)
	}
}

const usage = `AxonTask runs long tasks for AI agents and proves afterwards what happened.

Usage: axontask <command> [flags]

Commands:
  dev       run everything in one process on an embedded SQLite file
  serve     run an API process on Postgres and Redis (any number of them)
  worker    run a worker process on Postgres and Redis (any number of them)
  migrate   apply schema migrations to Postgres (DATABASE_URL) or a SQLite file
  projections rebuild   rebuild the read models from the event store
  tenants   list the plans; put a tenant on a plan
  export    write events as JSON Lines, for auditors
  verify    verify an export offline: hash chains, digests, order
  mcp       serve the MCP tools on stdio, for desktop agents (AXONTASK_URL, AXONTASK_API_KEY)

Run "axontask <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{exitUsage, errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "worker":
		return runWorker(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "projections":
		return runProjections(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "tenants":
		return runTenants(ctx, rest, stdout, stderr)
	case "verify":
		return runVerify(rest, stdin, stdout, stderr)
	case "mcp":
		return runMCP(ctx, rest, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return &exitError{exitUsage, fmt.Errorf("unknown command %q", cmd)}
	}
}
