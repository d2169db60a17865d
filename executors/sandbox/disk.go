//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A root worker that can make filesystems gives each task's /work and /tmp
// a filesystem of their own: an ext4 image of the task's WorkDirBytes,
// sparse in the sandbox directory, mounted through a loop device. The
// kernel then bounds them — deleted files still open, fallocate and inode
// counts included — where a measure of the tree could only catch up.

// diskCmdTimeout bounds mkfs and mount.
const diskCmdTimeout = 30 * time.Second

// diskTools returns why this worker cannot give tasks a filesystem each,
// or "" when it can: root, mkfs.ext4 and mount installed, loop devices.
func diskTools(asRoot bool) string {
	if !asRoot {
		return "the worker is not root"
	}
	for _, tool := range []string{"mkfs.ext4", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (Debian: e2fsprogs, mount)"
		}
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		return "there are no loop devices (/dev/loop-control)"
	}
	return ""
}

// taskDisk is a task's own filesystem, mounted at mnt.
type taskDisk struct {
	mnt string
}

// makeDisk makes and mounts a filesystem of size bytes at dir/fs, owned by
// uid:gid, for at most inodes files, with work/ and tmp/ in it.
func makeDisk(ctx context.Context, dir string, size int64, inodes, uid, gid int) (*taskDisk, error) {
	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, "fs")
	f, err := os.OpenFile(img, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the task's disk image: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("size the task's disk image: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, diskCmdTimeout)
	defer cancel()
	if err := run(ctx, "mkfs.ext4", "-q", "-F", "-m", "0", "-N", strconv.Itoa(inodes), "-O", "^has_journal",
		"-E", "lazy_itable_init=1,nodiscard,root_owner=0:0", img); err != nil {
		return nil, err
	}
	if err := os.Mkdir(mnt, 0o700); err != nil {
		return nil, err
	}
	if err := run(ctx, "mount", "-t", "ext4", "-o", "loop,nosuid,nodev", img, mnt); err != nil {
		return nil, err
	}
	d := &taskDisk{mnt: mnt}
	// Its root is the worker's, and only passed through: other users of
	// the host cannot settle in it and hold the mount.
	if err := os.Chmod(mnt, 0o711); err != nil {
		_ = unmount(d.mnt)
		return nil, err
	}
	for _, sub := range []string{"work", "tmp"} {
		p := filepath.Join(mnt, sub)
		err := os.Mkdir(p, 0o700)
		if err == nil {
			err = os.Chown(p, uid, gid)
		}
		if err != nil {
			_ = unmount(d.mnt)
			return nil, fmt.Errorf("make the task's %s directory: %w", sub, err)
		}
	}
	_ = os.Remove(filepath.Join(mnt, "lost+found"))
	return d, nil
}

// run runs a tool, with its output in the error it fails with.
func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// full reports whether the filesystem is out of room: less than 1 % of
// its blocks free (a write that did not fit leaves a few), or no inode.
func (d *taskDisk) full() bool {
	var st unix.Statfs_t
	if unix.Statfs(d.mnt, &st) != nil {
		return false
	}
	return st.Bavail*100 < st.Blocks || st.Ffree == 0
}

// remove unmounts the filesystem; the loop device goes with it. It says
// when it had to detach the filesystem lazily (something held it, and
// holds its loop device still).
func (d *taskDisk) remove(logger *slog.Logger) {
	if d == nil {
		return
	}
	if err := unmount(d.mnt); err != nil {
		logger.Warn("sandbox: a task's filesystem is busy; it is detached and goes when what holds it lets go", "mnt", d.mnt, "err", err)
	}
}

// unmount unmounts mnt; when it cannot (something holds it), it detaches
// it lazily and returns why the plain unmount failed.
func unmount(mnt string) error {
	err := unix.Unmount(mnt, 0)
	if err != nil {
		_ = unix.Unmount(mnt, unix.MNT_DETACH)
	}
	return err
}

// unmountUnder unmounts every filesystem mounted below dir (a dead
// worker's tasks' disks), deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	var mnts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			if mnt := unescapeMountPath(fields[4]); strings.HasPrefix(mnt, dir+"/") {
				mnts = append(mnts, mnt)
			}
		}
	}
	for i := len(mnts) - 1; i >= 0; i-- {
		_ = unmount(mnts[i])
	}
}

// mountPathEscapes are how /proc/self/mountinfo writes the characters
// that would break its fields.
var mountPathEscapes = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)

// unescapeMountPath returns the path a mountinfo field names.
func unescapeMountPath(field string) string { return mountPathEscapes.Replace(field) }
