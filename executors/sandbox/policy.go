package sandbox

import (
	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/sys/unix"
)

// deniedSyscalls are refused with EPERM inside the sandbox: those Docker's
// default profile refuses to a container without extra capabilities —
// kernel modules and keyrings, mounts and namespaces, clocks, tracing and
// reading other processes' memory, BPF and perf, io_uring, userfaultfd,
// handles that bypass path checks — less those our uid could not use
// anyway only where refusing them would break ordinary programs.
var deniedSyscalls = []string{
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime",
	"create_module", "delete_module", "finit_module", "fsconfig", "fsmount",
	"fsopen", "fspick", "get_kernel_syms", "init_module", "io_uring_enter",
	"io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp",
	"kexec_file_load", "kexec_load", "keyctl",
	"lookup_dcookie", "mbind", "migrate_pages", "mount", "mount_setattr",
	"move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
	"open_by_handle_at", "open_tree", "perf_event_open", "pivot_root",
	"process_vm_readv", "process_vm_writev", "ptrace", "query_module",
	"quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy",
	"setns", "settimeofday", "swapoff", "swapon", "sysfs", "_sysctl",
	"syslog", "umount2", "unshare", "uselib", "userfaultfd", "ustat",
	"vhangup", "chroot",
}

// namespaceFlags are the clone(2) flags that make a new namespace; a
// clone with any of them is refused, as unshare(2) is.
const namespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// errnoENOSYS is the errno a refused clone3 returns: "not implemented"
// makes the C library fall back to clone(2), whose flags the filter can
// read (clone3 passes them in memory, out of a filter's reach), as
// Docker's profile does.
const errnoENOSYS = seccomp.Action(unix.ENOSYS)

// seccompFilter is the filter init loads before it starts the command;
// it applies to every thread of init and to everything the command runs.
func seccompFilter() seccomp.Filter {
	return seccomp.Filter{
		NoNewPrivs: true,
		Flag:       seccomp.FilterFlagTSync,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{
				{Action: seccomp.ActionErrno, Names: deniedSyscalls},
				{Action: seccomp.ActionErrno | errnoENOSYS, Names: []string{"clone3"}},
				{Action: seccomp.ActionErrno, NamesWithCondtions: []seccomp.NameWithConditions{{
					Name:       "clone",
					Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.BitsSet, Value: namespaceFlags}},
				}}},
			},
		},
	}
}

// readOnlyPaths are the paths of the sandbox that Landlock lets the task
// read and execute (those that exist); writablePaths, those it may also
// write. Landlock is a second wall: the mounts already make everything
// else invisible or read-only.
var (
	readOnlyPaths = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc", "/dev", InitPath}
	writablePaths = []string{WorkDir, "/tmp", "/dev/shm", "/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts"}
)
