//go:build linux

package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/axontask/axontask/domain"
)

// monitorInterval is how often a running task's cgroup events are read;
// its work directory's size is measured every measureInterval, or less
// often when measuring takes long.
const (
	monitorInterval = 250 * time.Millisecond
	measureInterval = time.Second
	// maxWorkDirFiles bounds the files and directories of a task's work
	// directory and /tmp: each costs the worker a stat per measure.
	maxWorkDirFiles = 200_000
)

func (c Config) withDefaults() Config {
	if c.BwrapPath == "" {
		c.BwrapPath = "bwrap"
	}
	if c.Dir == "" {
		c.Dir = defaultDir()
	}
	if c.UID == 0 {
		c.UID, c.UIDs = DefaultUID, DefaultUIDs
	}
	if c.UIDs == 0 {
		c.UIDs = 1
	}
	if c.GID == 0 {
		c.GID = DefaultGID
	}
	if c.CgroupRoot == "" {
		c.CgroupRoot = "/sys/fs/cgroup"
	}
	if c.GracePeriod == 0 {
		c.GracePeriod = DefaultGracePeriod
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.EgressAllow == nil {
		c.EgressAllow = PublicOnly(hostAddrs)
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if !filepath.IsAbs(c.Dir) {
		errs = append(errs, fmt.Errorf("the sandbox directory %q must be an absolute path", c.Dir))
	}
	if c.UID < 0 || c.GID < 0 || c.UIDs < 1 || c.UID+c.UIDs-1 > 1<<31-2 {
		errs = append(errs, fmt.Errorf("the task uids %d (%d of them) and gid %d must be positive and below 2^31", c.UID, c.UIDs, c.GID))
	}
	seen := map[string]bool{}
	for _, s := range c.Shares {
		switch {
		case s.Name == "" || s.Name == "." || s.Name == ".." || strings.ContainsAny(s.Name, "/\x00"):
			errs = append(errs, fmt.Errorf("share name %q must be one path component, like \"project\"", s.Name))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("share name %q is used twice", s.Name))
		case !filepath.IsAbs(s.HostPath):
			errs = append(errs, fmt.Errorf("share %q: host path %q must be absolute", s.Name, s.HostPath))
		}
		seen[s.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sandbox config: %w", err)
	}
	return nil
}

// Sandbox starts commands in sandboxes. It is safe for concurrent use.
// Create it with New; Close it when the worker stops.
type Sandbox struct {
	cfg     Config
	bwrap   string
	init    string   // a copy of the worker's binary: upgrades on disk do not change it
	dir     string   // this Sandbox's own directory in cfg.Dir
	lock    *os.File // held while the Sandbox lives
	cgroups cgroups
	asRoot  bool
	disks   bool // each task's work/ and tmp/ on a filesystem of its own
	// Report says what this sandbox enforces, for the worker's start log.
	Report Report
}

// New checks that this machine can run sandboxes — bwrap is installed,
// user namespaces work, cgroups can be made (when cfg.RequireCgroups) —
// by starting one, and returns a Sandbox; or an error that says exactly
// what is missing and how to get it.
func New(cfg Config) (*Sandbox, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	bwrap, err := exec.LookPath(cfg.BwrapPath)
	if err != nil {
		return nil, fmt.Errorf("the sandbox needs bubblewrap, and %q is not installed: install it (Debian, Ubuntu: apt-get install -y bubblewrap; Fedora: dnf install bubblewrap)", cfg.BwrapPath)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the worker's own binary, to run as the sandbox's init: %w", err)
	}
	s := &Sandbox{cfg: cfg, bwrap: bwrap, asRoot: os.Geteuid() == 0}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	s.init = filepath.Join(s.dir, "init")
	if err := copyFile(self, s.init, 0o555); err != nil {
		s.Close()
		return nil, fmt.Errorf("copy the worker's own binary, to run as the sandbox's init: %w", err)
	}
	s.Report.UIDs = strconv.Itoa(os.Geteuid())
	switch {
	case s.asRoot && cfg.UIDs == 1:
		s.Report.UIDs = strconv.Itoa(cfg.UID)
	case s.asRoot:
		s.Report.UIDs = fmt.Sprintf("%d-%d", cfg.UID, cfg.UID+cfg.UIDs-1)
	}
	s.cgroups, err = findCgroups(cfg.CgroupRoot, filepath.Join("axontask", filepath.Base(s.dir)))
	s.Report.Cgroups = "none"
	switch {
	case err != nil && cfg.RequireCgroups:
		s.Close()
		return nil, fmt.Errorf("the sandbox needs cgroups to bound tasks' memory, processes and CPU: %w", err)
	case err != nil:
		s.Report.CgroupsMissing = err.Error()
	default:
		s.Report.Cgroups = "v" + strconv.Itoa(s.cgroups.version())
	}
	if err := s.selfTest(); err != nil {
		s.Close()
		return nil, err
	}
	s.Report.WorkDir = "measured every second"
	if why := diskTools(s.asRoot); why != "" {
		s.Report.WorkDirWhy = why
		return s, nil
	}
	s.disks = true
	if err := s.selfTestDisk(); err != nil {
		s.disks = false
		s.Report.WorkDirWhy = err.Error()
		return s, nil
	}
	s.Report.WorkDir = "a filesystem per task"
	return s, nil
}

// defaultDir is the sandbox directory of a Config without one: a place
// only the worker's user may write, whose parents the tasks' uid can pass.
func defaultDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/axontask-sandbox"
	}
	if cache, err := os.UserCacheDir(); err == nil {
		return filepath.Join(cache, "axontask-sandbox")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("axontask-sandbox-%d", os.Geteuid()))
}

// prepareDir makes this Sandbox's directory in cfg.Dir, locked for as long
// as it lives, and removes those of Sandboxes whose process is gone. The
// worker, as root, trusts what is in cfg.Dir: it must be a directory only
// the worker's user can write. The tasks' uid may pass through the
// directories (bwrap mounts the task's directories by path), not list them.
func (s *Sandbox) prepareDir() error {
	_, statErr := os.Lstat(s.cfg.Dir)
	if err := os.MkdirAll(s.cfg.Dir, 0o711); err != nil {
		return fmt.Errorf("create the sandbox directory %s: %w; set the sandbox directory to a writable place", s.cfg.Dir, err)
	}
	if err := ownDir(s.cfg.Dir); err != nil {
		return err
	}
	// A directory it made gets the mode it needs (the umask may have
	// taken some); one that was there is the operator's, and only checked.
	if errors.Is(statErr, os.ErrNotExist) {
		if err := os.Chmod(s.cfg.Dir, 0o711); err != nil {
			return err
		}
	}
	if s.asRoot {
		if err := searchable(s.cfg.Dir); err != nil {
			return err
		}
	}
	entries, _ := os.ReadDir(s.cfg.Dir)
	for _, e := range entries {
		if dir := filepath.Join(s.cfg.Dir, e.Name()); e.IsDir() && strings.HasPrefix(e.Name(), "w") && abandoned(dir) {
			unmountUnder(dir)
			removeTree(dir, s.cfg.Logger)
			removeStaleCgroups(s.cfg.CgroupRoot, e.Name())
		}
	}
	dir, err := os.MkdirTemp(s.cfg.Dir, "w")
	if err != nil {
		return fmt.Errorf("create the sandbox directory in %s: %w", s.cfg.Dir, err)
	}
	s.dir = dir
	if s.lock, err = lockDir(dir); err != nil {
		return err
	}
	return os.Chmod(dir, 0o711)
}

// ownDir reports a sandbox directory the worker must not trust: a symbolic
// link, or one another user owns or may write.
func ownDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("the sandbox directory %s is not a directory (a symbolic link?); choose a real directory", dir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("the sandbox directory %s belongs to another user; remove it, or choose a directory that only this worker's user owns", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("the sandbox directory %s can be written by other users (mode %s); chmod go-w it, or choose another", dir, fi.Mode().Perm())
	}
	return nil
}

// lockDir holds a lock on dir's lock file until the returned file is
// closed (or the process dies): a live Sandbox's directory is never taken
// for abandoned, whatever PID namespace its process is in.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the sandbox directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock the sandbox directory: %w", err)
	}
	return f, nil
}

// abandoned reports whether the Sandbox that made dir is gone: its lock
// is free, or (a Sandbox that died before taking it) it has none and is
// more than a minute old.
func abandoned(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fi, serr := os.Stat(dir)
		return errors.Is(err, os.ErrNotExist) && serr == nil && time.Since(fi.ModTime()) > time.Minute
	}
	defer func() { _ = f.Close() }()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}

// copyFile copies the file src to dst, created with perm.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// searchable reports the sandbox directory, or a directory above it, that
// the tasks' uids may not pass through (bwrap, running as such a uid,
// mounts the task's directories by path), or that another user could
// swap under the root worker: one owned by another user, or that others
// may write without the sticky bit.
func searchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("the sandbox directory's parent %s: %w", d, err)
		}
		mode := fi.Mode()
		st, _ := fi.Sys().(*syscall.Stat_t)
		switch {
		case mode.Perm()&0o001 == 0:
			return fmt.Errorf("%s (the sandbox directory or a parent of it) has mode %s, which the tasks' uids cannot pass through; chmod o+x it, or choose a sandbox directory such as /var/lib/axontask-sandbox", d, mode.Perm())
		case mode.Perm()&0o022 != 0 && mode&os.ModeSticky == 0, st != nil && st.Uid != 0 && int(st.Uid) != os.Geteuid():
			return fmt.Errorf("%s (a parent of the sandbox directory) can be changed by another user; choose a sandbox directory whose parents only root owns and writes, such as /var/lib/axontask-sandbox", d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// selfTest runs `true` in a sandbox and reports why it failed, if it did.
func (s *Sandbox) selfTest() error {
	return s.runSelfTest(domain.TaskLimits{})
}

// selfTestDisk runs `true` in a sandbox with a filesystem of its own.
func (s *Sandbox) selfTestDisk() error {
	return s.runSelfTest(domain.TaskLimits{WorkDirBytes: 16 << 20})
}

// runSelfTest runs `true` in a sandbox with limits and reports why it
// failed, if it did.
func (s *Sandbox) runSelfTest(limits domain.TaskLimits) error {
	var out bytes.Buffer
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&out, io.LimitReader(r, 64<<10)); close(done) }()
	p, err := s.Start(Request{TaskID: "selftest", Argv: []string{"true"}, Env: []string{"PATH=" + DefaultPath}, Limits: limits, Stdout: w, Stderr: w})
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		return fmt.Errorf("the sandbox cannot start here: %w", err)
	}
	exit := p.Wait()
	p.Close()
	<-done
	_ = r.Close()
	if exit.Err != nil || exit.StartError != "" || exit.Code != 0 {
		return fmt.Errorf("the sandbox does not work on this machine: %s%s%s; %s",
			errString(exit.Err), exit.StartError, strings.TrimSpace(out.String()), hintUserns())
	}
	s.Report.Landlock = exit.Landlock
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + ": "
}

// hintUserns says how to allow unprivileged user namespaces, which bwrap
// needs, when this kernel does not allow them.
func hintUserns() string {
	for file, want := range map[string]string{
		"/proc/sys/kernel/unprivileged_userns_clone":             "1",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "0",
		"/proc/sys/user/max_user_namespaces":                     "",
	} {
		b, err := os.ReadFile(file)
		got := strings.TrimSpace(string(b))
		if err != nil || (want == "" && got != "0") || (want != "" && got == want) {
			continue
		}
		if want == "" {
			want = "15000"
		}
		return fmt.Sprintf("this kernel does not let unprivileged processes make user namespaces (%s is %s): set it to %s (sysctl), or run the worker where it is", file, got, want)
	}
	return "check that bwrap can make user namespaces here (try: bwrap --unshare-all --ro-bind / / true); inside a container, the worker needs seccomp and AppArmor profiles that allow them"
}

// Close releases the Sandbox. Tasks still running keep running.
func (s *Sandbox) Close() {
	unmountUnder(s.dir)
	removeTree(s.dir, s.cfg.Logger)
	removeStaleCgroups(s.cfg.CgroupRoot, filepath.Base(s.dir))
	if s.lock != nil {
		_ = s.lock.Close()
	}
}
