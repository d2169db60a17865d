// Package sandbox runs one command of a task in a sandbox of its own, so
// that tenants can share a worker: a fresh user, mount, PID, IPC, UTS,
// cgroup and network namespace per task, set up by bubblewrap (bwrap); an
// unprivileged uid inside and outside; no capabilities; no-new-privileges;
// a seccomp filter on the lines of Docker's default profile; Landlock,
// where the kernel has it, as a second wall around the filesystem; a
// read-only view of the system directories, a private writable work
// directory (/work) and /tmp, and a fresh /proc that shows only the task's
// processes. Nothing of the worker — its data directory, keys, sockets,
// environment — is mounted or visible.
//
// # Processes
//
// Inside the sandbox, the first process (PID 1 of the task's PID
// namespace) is this package's init: the worker's own binary, mounted
// read-only at InitPath, which applies the rlimits, Landlock and seccomp,
// starts the task's command, forwards SIGTERM to every process of the
// task and reaps orphans. When the command exits, init stops what it left
// running and exits; when init exits or is killed, the kernel kills every
// process left in the namespace, setsid and double-fork escapes included.
// bwrap's --die-with-parent ties the sandbox to the worker: if the worker
// dies, so does every task it ran.
//
// A binary that runs sandboxed tasks must call Init first thing in main
// (and in TestMain of tests that run them): in the sandbox it becomes
// the init and never returns.
//
// # Resources
//
// Memory, processes and CPU are bounded by a cgroup per task (cgroup v1
// controllers where they are mounted, v2 otherwise); open files and file
// size by rlimits set by init; the work directory and /tmp by a size
// check every second. A task that runs out of memory or processes, or
// fills its work directory, is stopped and reported with the limit it hit.
package sandbox
