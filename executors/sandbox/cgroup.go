//go:build linux

package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/axontask/axontask/domain"
)

// v1Controllers are the cgroup v1 controllers a task's cgroup uses.
var v1Controllers = []string{"memory", "pids", "cpu"}

// v2WorkerLeaf is the cgroup v2 leaf the worker moves into, so that its
// own cgroup may give controllers to its tasks'.
const v2WorkerLeaf = "axontask-worker"

// cpuPeriodUS is the CFS period CPU quotas are set against.
const cpuPeriodUS = 100_000

// cgroups is where this worker makes its tasks' cgroups: a directory per
// v1 controller, or one v2 directory. The zero value makes none.
type cgroups struct {
	root string            // where the hierarchies are mounted
	v1   map[string]string // controller → parent directory
	v2   string
}

// Version is the cgroup version in use: 1, 2, or 0 for none.
func (c cgroups) version() int {
	switch {
	case c.v1 != nil:
		return 1
	case c.v2 != "":
		return 2
	}
	return 0
}

// findCgroups prepares the parent cgroups of this worker's tasks under
// root (/sys/fs/cgroup), named name, below the worker's own cgroups: v1
// where the memory, pids and cpu controllers are mounted, v2 otherwise.
// It fails, saying what is missing, when neither can be used.
func findCgroups(root, name string) (cgroups, error) {
	own, err := ownCgroups()
	if err != nil {
		return cgroups{}, err
	}
	if isV1(root) {
		c := cgroups{root: root, v1: map[string]string{}}
		for _, ctrl := range v1Controllers {
			dir := filepath.Join(root, ctrl, own[ctrl], name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return cgroups{}, fmt.Errorf("create the %s cgroup %s: %w", ctrl, dir, err)
			}
			c.v1[ctrl] = dir
		}
		return c, nil
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		return cgroups{}, fmt.Errorf("no cgroup v1 memory, pids and cpu controllers under %s, and no cgroup v2 there either", root)
	}
	dir, err := prepareV2(filepath.Join(root, own[""]), name)
	if err != nil {
		return cgroups{}, err
	}
	return cgroups{v2: dir}, nil
}

// isV1 reports whether root has the v1 controllers a task's cgroup needs.
func isV1(root string) bool {
	for _, ctrl := range v1Controllers {
		if _, err := os.Stat(filepath.Join(root, ctrl, "tasks")); err != nil {
			return false
		}
	}
	return true
}

// ownCgroups reads this process's cgroups: controller → path; "" is v2's.
func ownCgroups() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read this process's cgroups: %w", err)
	}
	own := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			own[ctrl] = parts[2]
		}
	}
	return own, nil
}

// prepareV2 makes the v2 cgroup name below own with the memory, pids and
// cpu controllers enabled for its children. v2 lets a cgroup with
// processes in it give no controllers to its children, so when own holds
// the worker itself, the worker moves into a leaf of its own first.
func prepareV2(own, name string) (string, error) {
	const enable = "+memory +pids +cpu"
	err := os.WriteFile(filepath.Join(own, "cgroup.subtree_control"), []byte(enable), 0)
	if errors.Is(err, syscall.EBUSY) {
		leaf := filepath.Join(own, v2WorkerLeaf)
		if err := os.MkdirAll(leaf, 0o755); err != nil {
			return "", fmt.Errorf("create the worker's own cgroup %s: %w", leaf, err)
		}
		if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte("0"), 0); err != nil {
			return "", fmt.Errorf("move the worker into %s: %w", leaf, err)
		}
		err = os.WriteFile(filepath.Join(own, "cgroup.subtree_control"), []byte(enable), 0)
	}
	if err != nil {
		return "", fmt.Errorf("enable the memory, pids and cpu controllers in %s: %w (the worker needs a delegated cgroup: run it as root, or under systemd with Delegate=yes)", own, err)
	}
	// v2 hands controllers down one level at a time: every cgroup between
	// own and the tasks' must pass them on.
	dir := own
	for _, part := range strings.Split(name, "/") {
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("create the cgroup %s: %w", dir, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(enable), 0); err != nil {
			return "", fmt.Errorf("enable the memory, pids and cpu controllers in %s: %w", dir, err)
		}
	}
	return dir, nil
}

// taskCgroup is the cgroup of one attempt of a task.
type taskCgroup struct {
	root string            // where the v1 hierarchies are mounted
	v1   map[string]string // controller → directory
	v2   string
}

// create makes the cgroup name for one task, with its limits set.
func (c cgroups) create(name string, l domain.TaskLimits) (*taskCgroup, error) {
	t := &taskCgroup{root: c.root}
	var files map[string]string
	switch c.version() {
	case 1:
		t.v1 = map[string]string{}
		for ctrl, parent := range c.v1 {
			t.v1[ctrl] = filepath.Join(parent, name)
		}
		files = v1Limits(t.v1, l)
	case 2:
		t.v2 = filepath.Join(c.v2, name)
		files = v2Limits(t.v2, l)
	default:
		return nil, nil
	}
	for _, dir := range t.dirs() {
		if err := os.Mkdir(dir, 0o755); err != nil {
			_ = t.remove()
			return nil, fmt.Errorf("create the task's cgroup: %w", err)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(f, []byte(files[f]), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = t.remove()
			return nil, fmt.Errorf("set %s to %s: %w", f, files[f], err)
		}
	}
	return t, nil
}

// v1Limits returns the files of v1 cgroups that set l, in the order to write
// them (sorted names: memory.limit_in_bytes before memory.memsw…).
func v1Limits(dirs map[string]string, l domain.TaskLimits) map[string]string {
	f := map[string]string{}
	if l.MemoryBytes > 0 {
		f[filepath.Join(dirs["memory"], "memory.limit_in_bytes")] = strconv.FormatInt(l.MemoryBytes, 10)
		f[filepath.Join(dirs["memory"], "memory.memsw.limit_in_bytes")] = strconv.FormatInt(l.MemoryBytes, 10)
	}
	if l.Pids > 0 {
		f[filepath.Join(dirs["pids"], "pids.max")] = strconv.Itoa(l.Pids)
	}
	if l.CPUMilli > 0 {
		f[filepath.Join(dirs["cpu"], "cpu.cfs_period_us")] = strconv.Itoa(cpuPeriodUS)
		f[filepath.Join(dirs["cpu"], "cpu.cfs_quota_us")] = strconv.Itoa(l.CPUMilli * cpuPeriodUS / 1000)
	}
	return f
}

// v2Limits returns the files of a v2 cgroup that set l.
func v2Limits(dir string, l domain.TaskLimits) map[string]string {
	f := map[string]string{}
	if l.MemoryBytes > 0 {
		f[filepath.Join(dir, "memory.max")] = strconv.FormatInt(l.MemoryBytes, 10)
		f[filepath.Join(dir, "memory.swap.max")] = "0"
	}
	if l.Pids > 0 {
		f[filepath.Join(dir, "pids.max")] = strconv.Itoa(l.Pids)
	}
	if l.CPUMilli > 0 {
		f[filepath.Join(dir, "cpu.max")] = fmt.Sprintf("%d %d", l.CPUMilli*cpuPeriodUS/1000, cpuPeriodUS)
	}
	return f
}

// dirs returns the cgroup's directories.
func (t *taskCgroup) dirs() []string {
	if t.v2 != "" {
		return []string{t.v2}
	}
	return slices.Collect(maps.Values(t.v1))
}

// start starts cmd inside the cgroup, so that nothing it runs is ever
// outside it: v2 through clone3's CLONE_INTO_CGROUP; v1, whose
// membership is per thread, by forking from a thread that joined the
// cgroup for that moment. A nil t starts cmd as it is.
func (t *taskCgroup) start(cmd *exec.Cmd) error {
	switch {
	case t == nil:
		return cmd.Start()
	case t.v2 != "":
		fd, err := unix.Open(t.v2, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open the task's cgroup: %w", err)
		}
		defer func() { _ = unix.Close(fd) }()
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() { errc <- t.startFromThread(cmd) }()
	return <-errc
}

// startFromThread starts cmd from this goroutine's thread, moved into the
// v1 cgroups for the fork and back after it. The thread must live on:
// Pdeathsig ties the child to the thread that forked it. A thread that
// cannot move back stays locked, and so ends with the goroutine; the child
// is killed then.
func (t *taskCgroup) startFromThread(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	tid := []byte(strconv.Itoa(unix.Gettid()))
	back, err := threadCgroups(t.root, t.v1)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	moved := []string{}
	var startErr error
	for _, ctrl := range slices.Sorted(maps.Keys(t.v1)) {
		if startErr = os.WriteFile(filepath.Join(t.v1[ctrl], "tasks"), tid, 0); startErr != nil {
			startErr = fmt.Errorf("join the task's %s cgroup: %w", ctrl, startErr)
			break
		}
		moved = append(moved, ctrl)
	}
	if startErr == nil {
		startErr = cmd.Start()
	}
	for _, ctrl := range moved {
		if err := os.WriteFile(filepath.Join(back[ctrl], "tasks"), tid, 0); err != nil {
			if cmd.Process != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
			return fmt.Errorf("the worker's thread could not leave the task's %s cgroup: %w", ctrl, err)
		}
	}
	runtime.UnlockOSThread()
	return startErr
}

// threadCgroups returns the directories of the calling thread's v1
// cgroups under root, one per controller of like.
func threadCgroups(root string, like map[string]string) (map[string]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/cgroup", unix.Gettid()))
	if err != nil {
		return nil, fmt.Errorf("read the thread's cgroups: %w", err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			if _, ok := like[ctrl]; ok {
				out[ctrl] = filepath.Join(root, ctrl, parts[2])
			}
		}
	}
	for ctrl := range like {
		if out[ctrl] == "" {
			return nil, fmt.Errorf("the thread's %s cgroup is not in /proc", ctrl)
		}
	}
	return out, nil
}

// events returns how often the kernel killed a process of the cgroup for
// lack of memory, and how often a fork failed for its process limit.
func (t *taskCgroup) events() (oomKills, pidsMax int64) {
	if t == nil {
		return 0, 0
	}
	if t.v2 != "" {
		return counter(filepath.Join(t.v2, "memory.events"), "oom_kill"), counter(filepath.Join(t.v2, "pids.events"), "max")
	}
	return counter(filepath.Join(t.v1["memory"], "memory.oom_control"), "oom_kill"), counter(filepath.Join(t.v1["pids"], "pids.events"), "max")
}

// counter reads the value of key in a flat-keyed cgroup file; 0 when absent.
func counter(file, key string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// remove removes the cgroup once its last process is gone, waiting a
// little for the kernel to finish with exiting processes.
func (t *taskCgroup) remove() error {
	if t == nil {
		return nil
	}
	var errs []error
	for _, dir := range t.dirs() {
		err := os.Remove(dir)
		for wait, waited := time.Millisecond, time.Duration(0); errors.Is(err, syscall.EBUSY) && waited < time.Second; wait = min(2*wait, 50*time.Millisecond) {
			time.Sleep(wait)
			waited += wait
			err = os.Remove(dir)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
