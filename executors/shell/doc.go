// Package shell is the executor of the "shell" adapter: it runs a task's
// argv (domain.ShellArgs) as a local process, without a shell unless the
// argv names one (["sh", "-c", "…"]). It is for Unix workers, Linux first.
//
// # Processes
//
// The command runs in its own process group, so that stopping a task stops
// everything it started: on cancel, SIGTERM goes to the group, then
// SIGKILL after Config.GracePeriod, and Run returns only once the group is
// dead and the leader reaped. When the main process exits on its own, any
// processes it left running in its group are stopped the same way: a task
// ends with its main process, as a container ends with its PID 1. A
// process that leaves the group (setsid, setpgid) escapes this; so do the
// task's processes if the worker itself dies (the watchdog then deals with
// the task). Run the worker under an init that reaps orphans (docker
// --init, tini); zombies it leaves do not delay Run, which reads /proc to
// tell them from live processes.
//
// A bare command name is searched in the task's PATH (the worker's, unless
// args.env sets one), ignoring relative PATH entries; a name with a slash
// is a path relative to the working directory. The environment is the
// worker's variables named in Config.EnvAllowList plus args.env, which
// wins; nothing else of the worker's environment is visible. stdin is
// /dev/null.
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
