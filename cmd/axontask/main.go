// Command axontask is AxonTask's one binary: the embedded dev server, schema
// migrations, the auditor's export and offline verification, and the client
// CLI of the HTTP API (task, keys, login), built on package client.
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
//	axontask task     start|status|logs|cancel|list|verify  tasks, through the API (-url, AXONTASK_URL)
//	axontask keys     create|list|revoke                    API keys, through the API
//	axontask secret   set|list|delete | rotate-key          tenant secrets, through the API; rotate-key on the store
//	axontask invitations send|sent|revoke|list|accept|decline  tenant invitations, through the API
//	axontask login    [-email E] | logout                   sign in and keep tokens in the user's config dir
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/axontask/axontask/executors/sandbox"
)

// exitError carries a process exit code out of run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes scripts can rely on. `task logs --exit-code` exits with the
// task's own code instead (see taskExitCode).
const (
	exitOK       = 0
	exitFailed   = 1 // the operation ran and its answer is "no" (verification failed, a task failed)
	exitUsage    = 2 // bad flags or arguments, or input the API refused
	exitInternal = 3 // I/O, database or other errors; the API unreachable or failing
	exitNotFound = 4 // the API has no such task or key (or it is another tenant's)
	exitAuth     = 5 // no credentials, or the API refused them (401) or the call (403)
)

// errReported ends a command whose outcome it has already told the user:
// the process exits with the exitError's code and prints nothing more.
var errReported = errors.New("reported")

func main() {
	sandbox.Init() // in a task's sandbox, this binary is its init
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

// report prints err, unless it is nil, errHelpShown or errReported, and
// returns the process's exit code.
func report(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintln(stderr, "axontask:", err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInternal
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
  verify    verify an export offline: hash chains, digests, order; with -receipt,
            a task's signed receipt, its inclusion in the log and the log's consistency
  log-keygen  print a new checkpoint key and receipt key for serve's environment
  secret rotate-key  re-seal every tenant secret under SECRETS_KEY (old key in SECRETS_KEY_PREVIOUS)
  mcp       serve the MCP tools on stdio, for desktop agents (AXONTASK_URL, AXONTASK_API_KEY)

Client commands (they call the API at -url, AXONTASK_URL or http://127.0.0.1:8080,
with the key in AXONTASK_API_KEY, else the tokens of "axontask login"; -json for scripts):
  task start [flags] -- ARGV...   start a shell task (-adapter docker -image IMAGE for a container, -adapter mock -args JSON for a mock one)
  task start-batch FILE|-         start the tasks of a JSON Lines file, 1,000 per request, all or nothing each
  task status ID                  a task's state and times
  task logs ID [-f] [-since N] [-exit-code]
                                  its output so far; -f follows it live to its end
  task cancel ID                  ask a task to stop
  task list [-state S] [-limit N] your tenant's tasks, newest first
  task verify ID                  read every event and verify the hash chain
  task receipt ID [-newer FILE]   an ended task's signed receipt, for verify -receipt
  keys create -name N [-scope S]  create an API key (printed this once)
  keys list | keys revoke ID      list or revoke API keys
  secret set NAME [-file F]       create a tenant secret or replace its value (from stdin or F)
  secret list | secret delete NAME
                                  list secrets (names and times) or delete one
  invitations send -email E [-role R] | sent | revoke ID
                                  invite into your tenant (joins on accepting), list, withdraw
  invitations list | accept ID | decline ID
                                  the invitations pending for you (signed in), answered
  usage [-period YYYY-MM] [-days] your tenant's metered usage this month (or -from/-to days)
  billing [-period YYYY-MM]       the month's plan, usage priced and estimated invoice (owners)
  login [-email E]                sign in (password from the terminal or stdin)
  logout                          end the session and forget its tokens

Exit status: 0 ok; 1 failed (a verification, a task with -exit-code, a cancel of an
ended task); 2 usage or input the API refused; 3 internal error or the API unreachable;
4 not found; 5 no credentials, unauthenticated or forbidden; 130 interrupted. With
"task logs -f -exit-code" the task's own exit code instead: 1 when it failed without
one, 124 timed out, 130 canceled.

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
	case "log-keygen":
		return runLogKeygen(rest, stdout, stderr)
	case "verify":
		return runVerify(rest, stdin, stdout, stderr)
	case "mcp":
		return runMCP(ctx, rest, stdin, stdout, stderr)
	case "task", "keys", "secret", "secrets", "invitations", "login", "logout", "usage", "billing":
		return runClientCommand(ctx, cmd, rest, newConsole(stdin, stdout, stderr))
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return &exitError{exitUsage, fmt.Errorf("unknown command %q", cmd)}
	}
}
