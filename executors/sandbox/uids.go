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
	if !s.asRoot {
		return uidLease{uid: os.Geteuid()}, nil
	}
	dir := filepath.Join(s.cfg.Dir, "uids")
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

// release gives the uid back. Call it once the task's processes are gone
// and its files removed.
func (l uidLease) release() {
	if l.lock != nil {
		_ = l.lock.Close()
	}
}
