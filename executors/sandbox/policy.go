//go:build linux

package sandbox

import (
	"fmt"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
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
	"vhangup", "chroot", "pidfd_getfd", "process_madvise", "fanotify_init",
	"get_mempolicy", "set_mempolicy_home_node",
}

// allowedPersonalities are the personality(2) values a task may set, as
// in Docker's profile: the default, and the flags that tools ask for
// (UNAME26, ADDR_NO_RANDOMIZE… are refused; 0xffffffff only queries).
var allowedPersonalities = []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}

// afVSOCK is the address family of VM sockets, which no network namespace
// confines: a task must not open them.
const afVSOCK = 40

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
				{Action: seccomp.ActionErrno, Names: nativeNames(deniedSyscalls)},
				{Action: seccomp.ActionErrno | errnoENOSYS, Names: []string{"clone3"}},
				{Action: seccomp.ActionErrno, NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "clone", Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.BitsSet, Value: namespaceFlags}}},
					{Name: "socket", Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.Equal, Value: afVSOCK}}},
					{Name: "socketpair", Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.Equal, Value: afVSOCK}}},
					{Name: "personality", Conditions: personalityConditions()},
				}},
			},
		},
	}
}

// personalityConditions match a personality(2) call with a value outside
// allowedPersonalities (the conditions of one rule must all hold).
func personalityConditions() []seccomp.Condition {
	c := make([]seccomp.Condition, len(allowedPersonalities))
	for i, v := range allowedPersonalities {
		c[i] = seccomp.Condition{Argument: 0, Operation: seccomp.NotEqual, Value: v}
	}
	return c
}

// loadNativeOnly loads a filter that refuses, with ENOSYS, every system
// call made through another ABI than the native one (int $0x80, the
// i386 ABI, on x86_64): the deny list above is written for the native
// ABI's numbers, and go-seccomp-bpf lets calls of other ABIs through.
func loadNativeOnly() error {
	native, err := arch.GetInfo("")
	if err != nil {
		return err
	}
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: uint32(native.ID)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r1, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	switch {
	case errno != 0:
		return fmt.Errorf("load the native-ABI filter: %w", errno)
	case r1 != 0: // TSYNC names a thread it could not synchronize
		return fmt.Errorf("load the native-ABI filter: thread %d could not take it", r1)
	}
	return nil
}

// nativeNames keeps the system calls this architecture has: some of
// x86_64's (iopl, uselib…) do not exist on arm64, and a filter may only
// name calls that do.
func nativeNames(names []string) []string {
	native, err := arch.GetInfo("")
	if err != nil {
		return names
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if _, ok := native.SyscallNames[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// readOnlyPaths are the paths of the sandbox that Landlock lets the task
// read and execute (those that exist); writablePaths, those it may also
// write. Landlock is a second wall: the mounts already make everything
// else invisible or read-only.
var (
	readOnlyPaths = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc", "/dev", InitPath}
	writablePaths = []string{WorkDir, "/tmp", "/dev/shm", "/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts"}
)
