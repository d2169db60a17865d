//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors/internal/workdir"
)

// etcFiles are the host's /etc entries a sandbox sees, read-only, when
// they exist: what the C library, TLS and common tools read. The rest of
// /etc (credentials, service configuration) stays out of sight.
var etcFiles = []string{
	"alternatives", "bash.bashrc", "ca-certificates", "ca-certificates.conf",
	"debian_version", "gai.conf", "host.conf", "inputrc", "ld.so.cache",
	"ld.so.conf", "ld.so.conf.d", "locale.alias", "localtime", "mime.types",
	"nsswitch.conf", "os-release", "profile", "protocols", "services", "ssl",
	"terminfo", "timezone",
}

// Process is a command running in a sandbox.
type Process struct {
	s      *Sandbox
	cmd    *exec.Cmd
	mu     sync.Mutex // guards initFD
	initFD int        // a pidfd of init; -1 once the sandbox is gone, or if bwrap failed before init
	status *os.File
	cg     *taskCgroup
	egress *egressProxy // nil without egress
	disk   *taskDisk    // nil when work/ and tmp/ are directories of dir
	dir    string
	uid    uidLease
	limits domain.TaskLimits
	limit  atomic.Pointer[string]
	done   chan struct{}
	once   sync.Once
}

// Start starts req's command in a new sandbox. The sandbox is running
// when Start returns; Wait for its end, then Close it. A sandbox that
// could not be set up is an error; a command that could not start is
// reported by Wait, in Exit.StartError.
func (s *Sandbox) Start(req Request) (*Process, error) {
	if req.Cwd != "" && !filepath.IsLocal(req.Cwd) {
		return nil, fmt.Errorf("working directory %q is not inside the work directory", req.Cwd)
	}
	lease, err := s.leaseUID()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(s.dir, workdir.Name(req.TaskID)+"-"+strconv.Itoa(req.Attempt)+"-")
	if err != nil {
		lease.release()
		return nil, fmt.Errorf("create the task's directory: %w", err)
	}
	// undo releases what Start took when it fails.
	var undo []func()
	fail := func(err error) (*Process, error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return nil, err
	}
	undo = append(undo, lease.release, func() { removeTree(dir, s.cfg.Logger) })
	name := filepath.Base(dir)
	if err := os.Chmod(dir, 0o711); err != nil {
		return fail(fmt.Errorf("open the task's directory to its uid: %w", err))
	}
	var disk *taskDisk
	root := dir // where the task's work/ and tmp/ are
	if s.disks && req.Limits.WorkDirBytes > 0 {
		if disk, err = makeDisk(context.Background(), dir, req.Limits.WorkDirBytes, diskInodes(req.Limits.WorkDirBytes), lease.uid, s.cfg.GID); err != nil {
			return fail(fmt.Errorf("make the task's filesystem: %w", err))
		}
		undo = append(undo, func() { disk.remove(s.cfg.Logger) })
		root = disk.mnt
	}
	files, err := s.prepareTaskDir(root, disk == nil, req, lease.uid)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, files.close)
	var egress *egressProxy
	if req.Limits.Egress {
		if egress, err = startEgress(filepath.Join(dir, "egress.sock"), s.owner(lease.uid), s.gid(), s.cfg.EgressAllow, s.cfg.Logger); err != nil {
			return fail(err)
		}
		undo = append(undo, egress.close)
	}
	cg, err := s.cgroups.create(name, req.Limits)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { _ = cg.remove() })
	cmd := &exec.Cmd{
		Path:        s.bwrap,
		Args:        append([]string{"bwrap"}, s.bwrapArgs(dir, root, files.shares, egress != nil)...),
		Env:         []string{},
		Stdout:      req.Stdout,
		Stderr:      req.Stderr,
		ExtraFiles:  files.child,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL},
	}
	if s.asRoot {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(lease.uid), Gid: uint32(s.cfg.GID), Groups: []uint32{}}
	}
	if err := cg.start(cmd); err != nil {
		return fail(fmt.Errorf("start bwrap: %w", err))
	}
	closeFiles(files.child...)
	p := &Process{s: s, cmd: cmd, status: files.status, cg: cg, egress: egress, disk: disk, dir: dir, uid: lease, done: make(chan struct{}),
		limits: req.Limits}
	p.initFD = -1
	if pid := readChildPid(files.info); pid > 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			p.initFD = fd
		}
	}
	go p.monitor()
	return p, nil
}

// taskFiles are the files a sandbox is started with.
type taskFiles struct {
	child  []*os.File // the child's fds 3, 4, …
	status *os.File   // where init's status is read
	info   *os.File   // where bwrap's info is read
	shares []int      // the child fds of cfg.Shares, in order
}

// close closes every file of f.
func (f taskFiles) close() {
	closeFiles(f.child...)
	closeFiles(f.status, f.info)
}

// Child fds besides statusFD and specFD.
const (
	infoFD  = 5
	etcFD   = 6 // passwd, group, hosts: 6, 7, 8
	shareFD = 9
)

// prepareTaskDir makes (when mkdirs) the task's work/ and tmp/ in root,
// owned by the task's uid, and opens the files the child is started with.
func (s *Sandbox) prepareTaskDir(root string, mkdirs bool, req Request, uid int) (taskFiles, error) {
	var f taskFiles
	for _, sub := range []string{"work", "tmp"} {
		if !mkdirs {
			break
		}
		p := filepath.Join(root, sub)
		if err := os.Mkdir(p, 0o700); err != nil {
			return f, fmt.Errorf("create the task's %s directory: %w", sub, err)
		}
		if s.asRoot {
			if err := os.Chown(p, uid, s.cfg.GID); err != nil {
				return f, fmt.Errorf("give the task's %s directory to uid %d: %w", sub, uid, err)
			}
		}
	}
	env := req.Env
	if req.Limits.Egress {
		env = withDefaults(env, proxyEnv())
	}
	spec, err := json.Marshal(initSpec{
		Argv: req.Argv, Env: env, Dir: filepath.Join(WorkDir, req.Cwd), Egress: req.Limits.Egress,
		Rlimits: s.rlimits(req), Grace: s.cfg.GracePeriod,
		Paths: landlockPathSet{ReadOnly: readOnlyPaths, Writable: s.writablePaths()},
	})
	if err != nil {
		return f, fmt.Errorf("encode the sandbox's spec: %w", err)
	}
	return s.openTaskFiles(map[string]string{
		"passwd": fmt.Sprintf("root:x:0:0:root:/:/usr/sbin/nologin\ntask:x:%d:%d:task:%s:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", uid, s.gid(), WorkDir),
		"group":  fmt.Sprintf("root:x:0:\ntask:x:%d:\nnogroup:x:65534:\n", s.gid()),
		"hosts":  "127.0.0.1\tlocalhost axontask\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"spec":   string(spec),
	})
}

// openTaskFiles makes the files the child is started with, in the order of
// its fds: content's files are in memory only (the spec holds the task's
// environment, which never touches the disk).
func (s *Sandbox) openTaskFiles(content map[string]string) (taskFiles, error) {
	var f taskFiles
	fail := func(err error) (taskFiles, error) {
		f.close()
		return taskFiles{}, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	f.status = statusR
	f.child = append(f.child, statusW)
	open := func(path string, flag int) error {
		file, err := os.OpenFile(path, flag|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s for the sandbox: %w", path, err)
		}
		f.child = append(f.child, file)
		return nil
	}
	inMemory := func(name string) error {
		file, err := memFile(name, content[name])
		if err != nil {
			return err
		}
		f.child = append(f.child, file)
		return nil
	}
	if err := inMemory("spec"); err != nil {
		return fail(err)
	}
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	f.info = infoR
	f.child = append(f.child, infoW)
	for _, name := range []string{"passwd", "group", "hosts"} {
		if err := inMemory(name); err != nil {
			return fail(err)
		}
	}
	for i, sh := range s.cfg.Shares {
		if err := open(sh.HostPath, unix.O_PATH|unix.O_DIRECTORY); err != nil {
			return fail(fmt.Errorf("share %q: %w", sh.Name, err))
		}
		f.shares = append(f.shares, shareFD+i)
	}
	return f, nil
}

// memFile returns a file in memory that holds content, read from its start.
func memFile(name, content string) (*os.File, error) {
	fd, err := unix.MemfdCreate("axontask-"+name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("make the sandbox's %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write the sandbox's %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// owner is the owner to give the files a task must reach: its uid when the
// worker is root, -1 (unchanged) when the task runs as the worker.
func (s *Sandbox) owner(uid int) int {
	if s.asRoot {
		return uid
	}
	return -1
}

// gid is the host gid tasks run as.
func (s *Sandbox) gid() int {
	if s.asRoot {
		return s.cfg.GID
	}
	return os.Getegid()
}

// writablePaths are the paths Landlock lets a task write: the defaults
// and the writable shares.
func (s *Sandbox) writablePaths() []string {
	out := append([]string{}, writablePaths...)
	for _, sh := range s.cfg.Shares {
		if sh.Writable {
			out = append(out, filepath.Join(WorkDir, sh.Name))
		}
	}
	return out
}

// rlimits are the resource limits init sets for a task: no core dumps,
// open files and file size from its limits, and, where no cgroup bounds
// memory and processes, the per-process and per-user rlimits for them.
func (s *Sandbox) rlimits(req Request) []rlimit {
	l := req.Limits
	out := []rlimit{{Resource: unix.RLIMIT_CORE, Value: 0}}
	if l.OpenFiles > 0 {
		out = append(out, rlimit{Resource: unix.RLIMIT_NOFILE, Value: uint64(l.OpenFiles)})
	}
	if l.FileSizeBytes > 0 {
		out = append(out, rlimit{Resource: unix.RLIMIT_FSIZE, Value: uint64(l.FileSizeBytes)})
	}
	if s.cgroups.version() == 0 {
		if l.MemoryBytes > 0 {
			out = append(out, rlimit{Resource: unix.RLIMIT_AS, Value: uint64(l.MemoryBytes)})
		}
		if l.Pids > 0 {
			out = append(out, rlimit{Resource: unix.RLIMIT_NPROC, Value: uint64(l.Pids)})
		}
	}
	return out
}

// bwrapArgs returns bwrap's arguments for req: the namespaces, the
// filesystem view, and init as the command.
func (s *Sandbox) bwrapArgs(dir, root string, shares []int, egress bool) []string {
	a := []string{
		"--unshare-all", "--unshare-user", "--disable-userns",
		"--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL",
		"--hostname", "axontask",
		"--ro-bind", "/usr", "/usr",
	}
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"} {
		if target, err := os.Readlink(d); err == nil {
			a = append(a, "--symlink", target, d)
		} else {
			a = append(a, "--ro-bind-try", d, d)
		}
	}
	for _, e := range etcFiles {
		a = append(a, "--ro-bind-try", "/etc/"+e, "/etc/"+e)
	}
	a = append(a,
		"--ro-bind-data", strconv.Itoa(etcFD), "/etc/passwd",
		"--ro-bind-data", strconv.Itoa(etcFD+1), "/etc/group",
		"--ro-bind-data", strconv.Itoa(etcFD+2), "/etc/hosts",
		"--proc", "/proc", "--dev", "/dev",
		"--size", strconv.Itoa(DefaultShmBytes), "--perms", "1777", "--tmpfs", "/dev/shm",
		"--bind", filepath.Join(root, "work"), WorkDir,
		"--bind", filepath.Join(root, "tmp"), "/tmp",
	)
	for i, sh := range s.cfg.Shares {
		flag := "--ro-bind-fd"
		if sh.Writable {
			flag = "--bind-fd"
		}
		a = append(a, flag, strconv.Itoa(shares[i]), filepath.Join(WorkDir, sh.Name))
	}
	if egress {
		a = append(a, "--bind", filepath.Join(dir, "egress.sock"), egressSocket)
	}
	return append(a,
		"--ro-bind", s.init, InitPath,
		"--chdir", "/", "--remount-ro", "/",
		"--info-fd", strconv.Itoa(infoFD),
		InitPath,
	)
}

// readChildPid reads bwrap's info: the host pid of the sandbox's init.
// It returns 0 if bwrap failed before it wrote any.
func readChildPid(info *os.File) int {
	defer func() { _ = info.Close() }()
	var v struct {
		ChildPid int `json:"child-pid"`
	}
	_ = json.NewDecoder(io.LimitReader(info, 64<<10)).Decode(&v)
	return v.ChildPid
}

// Terminate asks every process of the sandbox to stop: init passes
// SIGTERM (and SIGCONT) on to them.
func (p *Process) Terminate() { p.signal(unix.SIGTERM) }

// Kill kills every process of the sandbox at once: init, and with it its
// PID namespace.
func (p *Process) Kill() { p.signal(unix.SIGKILL) }

func (p *Process) signal(sig unix.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	p.mu.Lock()
	if p.initFD >= 0 {
		// A pidfd: never another process that took init's pid after it.
		_ = unix.PidfdSendSignal(p.initFD, sig, nil, 0)
	}
	p.mu.Unlock()
	if sig == unix.SIGKILL {
		_ = p.cmd.Process.Kill()
	}
}

// Wait waits until every process of the sandbox is gone and says how
// its command ended. Call it once.
func (p *Process) Wait() Exit {
	waitErr := p.cmd.Wait()
	close(p.done)
	var st initStatus
	dec := json.NewDecoder(io.LimitReader(p.status, 1<<20))
	statusErr := dec.Decode(&st)
	_ = p.status.Close()
	exit := Exit{StartError: st.StartError, Code: st.ExitCode, Signal: st.Signal, Leftovers: st.Leftovers, Landlock: st.Landlock}
	if st.Signal != 0 {
		exit.Code = 128 + st.Signal
	}
	if l := p.limit.Load(); l != nil {
		exit.Limit = *l
	} else {
		// A limit that ended the command itself (the OOM killer's kill of
		// the main process) is seen only now.
		exit.Limit = p.limitHit()
	}
	if statusErr != nil {
		exit.Err = fmt.Errorf("the sandbox ended before its command did (bwrap: %v)", exitOf(waitErr))
	}
	p.mu.Lock()
	if p.initFD >= 0 {
		_ = unix.Close(p.initFD)
		p.initFD = -1
	}
	p.mu.Unlock()
	return exit
}

// exitOf describes how bwrap ended.
func exitOf(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Close removes the sandbox's cgroup and directory once it is gone, and
// gives its uid back.
func (p *Process) Close() {
	p.once.Do(func() {
		if p.egress != nil {
			p.egress.close()
		}
		if err := p.cg.remove(); err != nil {
			// Processes of the task are still dying (stuck in the kernel, say):
			// its uid is not given to another task while they live.
			p.s.cfg.Logger.Warn("sandbox: a task's cgroup still has processes; its uid stays taken until the worker exits", "dir", p.dir, "err", err)
		} else {
			defer p.uid.release()
		}
		p.disk.remove(p.s.cfg.Logger)
		removeTree(p.dir, p.s.cfg.Logger)
	})
}

// monitor stops the sandbox when the task hits a limit that does not end
// it by itself: an out-of-memory kill, a fork refused for its process
// limit, a full work directory.
func (p *Process) monitor() {
	t := time.NewTicker(monitorInterval)
	defer t.Stop()
	var nextMeasure time.Time
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		reason := p.limitHit()
		switch {
		case reason != "" || p.limits.WorkDirBytes == 0:
		case p.disk != nil:
			// The kernel bounds the task's filesystem; a full one ends it.
			if p.disk.full() {
				reason = fmt.Sprintf("work directory full: the task filled its %s of work directory and /tmp", mib(p.limits.WorkDirBytes))
			}
		case !time.Now().Before(nextMeasure):
			start := time.Now()
			reason = p.workDirFull()
			// Measuring is the worker's work, on the task's behalf: a task
			// with many files is measured less often, never more than a
			// twentieth of the worker's time.
			nextMeasure = time.Now().Add(max(measureInterval, 20*time.Since(start)))
		}
		if reason != "" {
			p.limit.Store(&reason)
			p.Kill()
			return
		}
	}
}

// limitHit returns which limit of its cgroup the task hit, if any.
func (p *Process) limitHit() string {
	oom, pidsMax := p.cg.events()
	switch {
	case oom > 0:
		return fmt.Sprintf("out of memory: the task used all of its %s of memory", mib(p.limits.MemoryBytes))
	case pidsMax > 0:
		return fmt.Sprintf("too many processes: the task tried to run more than %d processes and threads at once", p.limits.Pids)
	}
	return ""
}

// workDirFull says how the task's work directory and /tmp went past its
// limit, if they did: too many bytes, or too many files to count.
func (p *Process) workDirFull() string {
	used, files := treeSize(p.dir, maxWorkDirFiles)
	switch {
	case files > maxWorkDirFiles:
		return fmt.Sprintf("work directory full: the task made more than %d files and directories in its work directory and /tmp", maxWorkDirFiles)
	case used > p.limits.WorkDirBytes:
		return fmt.Sprintf("work directory full: the task wrote %s to its work directory and /tmp, over its %s", mib(used), mib(p.limits.WorkDirBytes))
	}
	return ""
}

// mib formats n bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// treeSize returns the disk space the files under dir use, and how many
// entries it counted, stopping past maxEntries. It walks inside dir only:
// a task that swaps a directory for a link to elsewhere while the walk
// runs gets an error for it, not the size of a host directory.
func treeSize(dir string, maxEntries int) (bytes int64, entries int) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, 0
	}
	defer func() { _ = root.Close() }()
	_ = fs.WalkDir(root.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if entries++; entries > maxEntries {
			return fs.SkipAll
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				bytes += st.Blocks * 512
			}
		}
		return nil
	})
	return bytes, entries
}

// removeTree removes dir and everything in it, or logs why it cannot.
func removeTree(dir string, logger *slog.Logger) {
	if err := workdir.Remove(dir); err != nil {
		logger.Warn("sandbox: cannot remove a directory", "dir", dir, "err", err)
	}
}

// removeStaleCgroups removes the (empty) task cgroups that the Sandbox
// named instance left, and its parent cgroups.
func removeStaleCgroups(root, instance string) {
	own, err := ownCgroups()
	if err != nil {
		return
	}
	dirs := []string{filepath.Join(root, strings.TrimSuffix(own[""], "/"+v2WorkerLeaf), "axontask", instance)}
	for _, ctrl := range v1Controllers {
		dirs = append(dirs, filepath.Join(root, ctrl, own[ctrl], "axontask", instance))
	}
	for _, dir := range dirs {
		children, _ := os.ReadDir(dir)
		for _, c := range children {
			if c.IsDir() {
				_ = os.Remove(filepath.Join(dir, c.Name()))
			}
		}
		_ = os.Remove(dir)
	}
}

// diskInodes is how many files a task's filesystem of size bytes holds:
// one per 16 KiB, at least 1,024, at most maxWorkDirFiles.
func diskInodes(size int64) int {
	return int(min(max(size/(16<<10), 1024), maxWorkDirFiles))
}

// withDefaults returns env with the variables of defaults it does not set.
func withDefaults(env, defaults []string) []string {
	set := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	out := append([]string{}, env...)
	for _, kv := range defaults {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			out = append(out, kv)
		}
	}
	return out
}

// closeFiles closes files, ignoring nil ones and errors.
func closeFiles(files ...*os.File) {
	for _, f := range files {
		if f != nil {
			_ = f.Close()
		}
	}
}
