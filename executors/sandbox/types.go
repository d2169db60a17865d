package sandbox

import (
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/axontask/axontask/domain"
)

// Defaults of Config.
const (
	// DefaultUID and DefaultUIDs are the host uids a root worker's tasks
	// run as: a range no account uses, below 2^31 for tools that read uids
	// as signed, and apart from the ranges /etc/subuid usually hands out.
	DefaultUID         = 1_500_000_000
	DefaultUIDs        = 65536
	DefaultGID         = 65534 // nogroup
	DefaultGracePeriod = 5 * time.Second
	// DefaultShmBytes bounds /dev/shm, a tmpfs charged to the task's memory.
	DefaultShmBytes = 64 << 20
)

// Paths inside the sandbox.
const (
	// InitPath is where the worker's binary is mounted, read-only, to run
	// as the sandbox's init.
	InitPath = "/.axontask/init"
	// WorkDir is the task's private, writable work directory.
	WorkDir = "/work"
)

// Share is a directory of the worker's host that tasks see in their work
// directory, as /work/<Name>.
type Share struct {
	// Name is the directory's name in /work: one path component.
	Name string
	// HostPath is the directory on the host; absolute.
	HostPath string
	// Writable lets tasks change the directory; otherwise it is read-only.
	Writable bool
}

// Config configures a Sandbox. The zero value is usable.
type Config struct {
	// BwrapPath is the bubblewrap binary (default: bwrap, searched in PATH).
	BwrapPath string
	// Dir holds the tasks' work directories and /tmp while they run
	// (default: /var/lib/axontask-sandbox for root, axontask-sandbox in the
	// user's cache directory otherwise). Only the worker's user may write
	// it: the worker trusts its content. Each is removed when its
	// task ends; those a dead worker left behind are removed by the next
	// Sandbox made on the same Dir.
	Dir string
	// UID and UIDs are the host uids tasks run as when the worker runs as
	// root: UID … UID+UIDs-1, a different one for each task running at
	// once on the host (default DefaultUID, DefaultUIDs); GID is their
	// group (default 65534, nogroup). A worker that is not root runs tasks
	// as its own uid, in a user namespace.
	UID, UIDs, GID int
	// Shares are host directories tasks see in their work directory.
	Shares []Share
	// CgroupRoot is where cgroup hierarchies are mounted (default /sys/fs/cgroup).
	CgroupRoot string
	// RequireCgroups makes New fail when no cgroup can be made for tasks.
	// Without cgroups, memory is bounded per process (RLIMIT_AS) and
	// processes per user (RLIMIT_NPROC), and CPU not at all.
	RequireCgroups bool
	// EgressAllow decides which addresses a task whose Limits allow
	// egress may reach through the worker's proxy (nil: PublicOnly of
	// this host's addresses).
	EgressAllow func(netip.AddrPort) error
	// GracePeriod is how long the processes a command leaves running get
	// between SIGTERM and SIGKILL when it exits (default 5 s).
	GracePeriod time.Duration
	// Logger receives what the sandbox cannot report to a task (default slog.Default()).
	Logger *slog.Logger
}

// Report says what a Sandbox enforces on this machine.
type Report struct {
	// Cgroups is "v1", "v2", or "none" (rlimits only).
	Cgroups string
	// CgroupsMissing says why cgroups cannot be used, when Cgroups is "none".
	CgroupsMissing string
	// Landlock is the kernel's Landlock ABI version enforced as a second
	// wall; 0: the kernel has none.
	Landlock int
	// WorkDir says how a task's work directory and /tmp are bounded: "a
	// filesystem per task", or "measured every second" (WorkDirWhy says
	// why not the former).
	WorkDir, WorkDirWhy string
	// UIDs are the host uids tasks run as ("1500000000-1500065535").
	UIDs string
}

// DefaultPath is the PATH of a task that sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Request is one command to run in a sandbox.
type Request struct {
	// TaskID and Attempt name the sandbox's directory and cgroup.
	TaskID  string
	Attempt int
	// Argv is the command; Argv[0] is searched in PATH of Env unless it
	// has a slash.
	Argv []string
	// Env is the command's whole environment.
	Env []string
	// Cwd is the working directory, relative to the work directory and
	// inside it (domain.CleanCwd); empty: the work directory.
	Cwd string
	// Limits bound the command's resources.
	Limits domain.TaskLimits
	// Stdout and Stderr receive the command's output; Start does not
	// close them.
	Stdout, Stderr *os.File
}

// Exit is how a sandboxed command ended.
type Exit struct {
	// StartError says why the command could not start (not found, not
	// executable); the fields below are unset then.
	StartError string
	// Code is the command's exit code; 128+signal if a signal killed it.
	Code int
	// Signal is the signal that killed the command; 0 if it exited.
	Signal int
	// Leftovers: the command left processes running, which were stopped.
	Leftovers bool
	// Limit says which limit the task hit, when the sandbox stopped it
	// for one ("out of memory: …").
	Limit string
	// Landlock is the Landlock ABI version that was enforced.
	Landlock int
	// Err is set when the sandbox itself failed, or was killed before
	// the command ended (Kill, or a limit).
	Err error
}
