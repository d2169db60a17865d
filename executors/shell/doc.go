// Package shell is the executor of the "shell" adapter: it runs a task's
// argv (domain.ShellArgs) as a local process, without a shell unless the
// argv names one (["sh", "-c", "…"]). It is for Unix workers, Linux first.
//
// # Where tasks run
//
// With Config.Sandbox set (what `axontask worker` and `dev` use), each task
// runs in a sandbox of its own (package sandbox): its own namespaces and
// uid, /work as its work directory (and HOME), its plan's limits, and
// nothing of the worker's files or environment. args.cwd is relative to
// /work. Stopping a task stops every process of it, setsid escapes
// included: on cancel, SIGTERM to all of them, then the sandbox is killed
// after Config.GracePeriod; when its main process exits, what it left
// running is stopped the same way. A task that hits a resource limit ends
// with an *executors.LimitError.
//
// Without a Sandbox (`-sandbox=off`, for one developer's own machine) the
// command runs on the host as the worker's user, in its own process group
// and in a work directory (Config.DefaultDir, or a fresh one that is
// removed afterwards). Stopping it signals the group; a process that
// leaves the group (setsid) escapes this, as do the task's processes if
// the worker dies. Run such a worker under an init that reaps orphans; Run
// reads /proc to tell zombies from live processes.
//
// A bare command name is searched in the task's PATH, ignoring relative
// PATH entries; a name with a slash is a path relative to the working
// directory. The environment is the worker's variables named in
// Config.EnvAllowList (in a sandbox, less PATH, HOME, TMPDIR and USER,
// which the sandbox sets) plus args.env, which wins; nothing else of the
// worker's environment is visible. stdin is /dev/null.
//
// # Output and the progress protocol
//
// stdout and stderr are read concurrently and delivered to the Sink apart,
// in chunks as they arrive, byte for byte. stderr chunks go out as read.
// stdout is scanned line by line for one protocol line:
//
//	::progress <percent> [<message>]
//
// where percent is a decimal number from 0 to 100 (no sign or exponent)
// and message is the rest of the line. Such a line (a trailing "\r" is
// allowed) becomes Sink.Progress and is not forwarded as output; any other
// line, including a malformed "::progress x", is forwarded unchanged.
// Complete lines are forwarded as soon as they are read. An incomplete line
// is held until its newline, until it reaches Config.MaxLineBytes, or until
// it has waited Config.FlushDelay, and then forwarded as it is, so that a
// process printing without newlines still streams; the rest of such a line
// is output too. A partial line that can still become a progress line
// ("::prog") is held for its newline (or MaxLineBytes) instead.
package shell
