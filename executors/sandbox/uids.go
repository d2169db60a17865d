//go:build linux

package sandbox

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// uidLease is the host uid one task runs as, held until the task is gone:
// no two tasks running at once on a host share one, so that the kernel's
// per-user counts (processes, inotify, pending signals) are each task's
// own.
type uidLease struct {
	uid  int
	lock *os.File // nil when the worker is not root and runs tasks as itself
}

// leaseUID takes a uid of the configured range that no running task holds,
// across every worker that shares cfg.Dir: each uid has a lock file there.
// A worker that is not root has one uid to give, its own.
func (s *Sandbox) leaseUID() (uidLease, error) {
	switch {
	case !s.asRoot:
		return uidLease{uid: os.Geteuid()}, nil
	case s.cfg.UIDs == 1:
		// One uid for all, as configured: tasks share it, and its counts.
		return uidLease{uid: s.cfg.UID}, nil
	}
	dir := uidLockDir(s.cfg.Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return uidLease{}, fmt.Errorf("make the directory of the sandbox uids' locks: %w", err)
	}
	start := rand.IntN(s.cfg.UIDs)
	for i := range s.cfg.UIDs {
		uid := s.cfg.UID + (start+i)%s.cfg.UIDs
		// A lock file is never removed: removing one that another worker
		// has open would let two tasks hold the same uid.
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(uid)), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return uidLease{}, fmt.Errorf("lock a sandbox uid: %w", err)
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			return uidLease{uid: uid, lock: f}, nil
		}
		_ = f.Close()
	}
	return uidLease{}, fmt.Errorf("all %d sandbox uids (from %d) are held by running tasks; give the sandbox a larger range (SANDBOX_USER first-last:gid)", s.cfg.UIDs, s.cfg.UID)
}

// uidLockDir is where the uids' locks live: in /run, shared by every
// worker of the host whatever its sandbox directory, or else in dir.
func uidLockDir(dir string) string {
	if fi, err := os.Stat("/run"); err == nil && fi.IsDir() {
		return "/run/axontask-sandbox/uids"
	}
	return filepath.Join(dir, "uids")
}

// release gives the uid back. Call it once the task's processes are gone
// and its files removed.
func (l uidLease) release() {
	if l.lock != nil {
		_ = l.lock.Close()
	}
}
