package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// A clientCommand is one client command: "task logs", "keys create".
type clientCommand struct {
	name     string
	synopsis string
	about    string
	run      func(ctx context.Context, cl *commandLine) error
}

// commandLine is one run of a client command: its flag set, with the
// flags every client command takes already registered in cf, its
// arguments and its console.
type commandLine struct {
	fs       *flag.FlagSet
	cf       clientFlags
	args     []string
	con      *console
	synopsis string
}

// newCommandLine prepares a run of the command named name ("task logs").
func newCommandLine(con *console, name, synopsis, about string, args []string) *commandLine {
	cl := &commandLine{fs: flag.NewFlagSet(name, flag.ContinueOnError), args: args, con: con, synopsis: synopsis}
	cl.fs.SetOutput(con.stderr)
	cl.fs.Usage = func() {
		fmt.Fprintf(con.stderr, "Usage: axontask %s %s\n\n%s.\n\nFlags:\n", name, synopsis, about)
		cl.fs.PrintDefaults()
	}
	cl.cf.register(cl.fs, con)
	return cl
}

// taskCommands and keyCommands are the subcommands of "axontask task" and
// "axontask keys", in the order their usage lists them.
var (
	taskCommands = []clientCommand{
		{"start", "[flags] -- ARGV...", "start a task: a shell command (the argv after --), a container (-adapter docker -image IMAGE), or -adapter mock -args JSON", runTaskStart},
		{"start-batch", "FILE|- [-idempotency-key K] [flags]", "start the tasks of a JSON Lines file (one POST /v1/tasks/batch body task a line: name, adapter, args, timeout_s, retry, on_interrupt, idempotency_key), 1,000 per request, each request all or nothing; prints their ids in the file's order", runTaskStartBatch},
		{"status", "ID [flags]", "show a task's state and times", runTaskStatus},
		{"logs", "ID [-f] [-since N] [-exit-code] [flags]", "print a task's output so far; -f follows it live to its end", runTaskLogs},
		{"cancel", "ID [flags]", "ask a task to stop; it ends with task.canceled", runTaskCancel},
		{"list", "[-state S] [-limit N] [flags]", "list your tenant's tasks, newest first", runTaskList},
		{"verify", "ID [flags]", "read all of a task's events and verify their hash chain", runTaskVerify},
		{"receipt", "ID [-newer FILE] [flags]", "print an ended task's signed receipt (JSON), for axontask verify -receipt", runTaskReceipt},
	}
	keyCommands = []clientCommand{
		{"create", "-name N [-scope S]... [flags]", "create an API key; it is printed this once", runKeysCreate},
		{"list", "[flags]", "list the API keys you can see", runKeysList},
		{"revoke", "ID [flags]", "revoke an API key, at once everywhere", runKeysRevoke},
	}
)

// runClientCommand runs a client command: "task …", "keys …", "secret …"
// (or "secrets …"), "invitations …", "login" or "logout".
func runClientCommand(ctx context.Context, group string, args []string, con *console) error {
	switch group {
	case "login":
		return runLogin(ctx, newCommandLine(con, "login", "[-email E] [-tenant ID] [flags]", loginAbout, args))
	case "logout":
		return runLogout(ctx, newCommandLine(con, "logout", "[flags]", logoutAbout, args))
	case "usage":
		return runUsage(ctx, newCommandLine(con, "usage", "[-period YYYY-MM | -from DAY -to DAY] [-days] [flags]", usageAbout, args))
	case "billing":
		return runBilling(ctx, newCommandLine(con, "billing", "[-period YYYY-MM] [flags]", billingAbout, args))
	}
	cmds := map[string][]clientCommand{"task": taskCommands, "keys": keyCommands, "secret": secretCommands, "secrets": secretCommands, "invitations": invitationCommands}[group]
	usage := groupUsage(group, cmds)
	if len(args) == 0 {
		fmt.Fprint(con.stderr, usage)
		return usageError(fmt.Sprintf("%s: no command given", group))
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(con.stdout, usage)
		return nil
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, newCommandLine(con, group+" "+c.name, c.synopsis, c.about, args[1:]))
		}
	}
	fmt.Fprint(con.stderr, usage)
	return usageError(fmt.Sprintf("%s: unknown command %q", group, args[0]))
}

func groupUsage(group string, cmds []clientCommand) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: axontask %s <command> [flags]\n\nCommands:\n", group)
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-8s %s\n           %s\n", c.name, c.synopsis, c.about)
	}
	fmt.Fprintf(&b, "\nEvery command takes -url (AXONTASK_URL) and -json. Run \"axontask %s <command> -h\" for its flags.\n", group)
	return b.String()
}

// parse parses the arguments, in which flags may also follow the
// positional arguments (`task logs ID -f`); everything after "--" is
// positional. It returns the positional arguments: a usage error unless
// there are from minArgs to maxArgs of them (maxArgs < 0: no bound).
func (cl *commandLine) parse(minArgs, maxArgs int) ([]string, error) {
	var pos []string
	args := cl.args
	for {
		if err := cl.parseFlags(args); err != nil {
			return nil, err
		}
		rest := cl.fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case len(pos) < minArgs:
		return nil, usageError(fmt.Sprintf("%s: missing argument; usage: axontask %s %s", cl.fs.Name(), cl.fs.Name(), cl.synopsis))
	case maxArgs >= 0 && len(pos) > maxArgs:
		return nil, usageError(fmt.Sprintf("%s takes at most %d argument(s), got %q", cl.fs.Name(), maxArgs, pos))
	}
	return pos, nil
}

// parseFlags parses args up to the first argument that is not a flag
// (or "--"), leaving the rest in cl.fs.Args().
func (cl *commandLine) parseFlags(args []string) error {
	if err := cl.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &exitError{exitUsage, err}
	}
	return nil
}

// parseTask parses the command line of a command that takes one task id,
// after its flags.
func (cl *commandLine) parseTask() (uuid.UUID, error) {
	pos, err := cl.parse(1, 1)
	if err != nil {
		return uuid.Nil, err
	}
	return parseTaskID(pos[0])
}

// parseTaskID parses a task id given on the command line.
func parseTaskID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, usageError(fmt.Sprintf("%q is not a task id: give the UUID that task start or task list printed", s))
	}
	return id, nil
}
