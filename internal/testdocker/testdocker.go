// Package testdocker gives tests a real Docker Engine API: the engine
// named by AXONTASK_TEST_DOCKER_HOST, or else a throwaway podman service
// (`podman system service`) with storage, runtime state and configuration
// of its own under a temporary directory, started on first use and
// stopped with the test binary (Main). Either way the engine gets Image, a
// tiny image made on the spot from the machine's busybox-static (nothing
// is pulled: tests need no registry).
//
// A test that needs the engine and cannot have it is skipped, unless CI
// is set: then it fails, so that CI never passes on skipped tests.
//
// The throwaway engine runs containers with runc and the cgroupfs cgroup
// manager (no systemd), logs its events to a file, keeps its locks in
// files of its own (test binaries run at once, each with its engine), and
// gives containers no network unless asked: what works as root on a Debian
// machine with cgroups v1 or v2 and no systemd.
package testdocker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/axontask/axontask/internal/testproc"
)

// EnvHost names the variable that points tests at an existing engine
// (a DOCKER_HOST value, like unix:///var/run/docker.sock).
const EnvHost = "AXONTASK_TEST_DOCKER_HOST"

// Image is the test image: busybox-static as /bin/busybox with its applets
// linked in /bin (sh, echo, sleep, cat, seq, yes, head, dd …) and a /tmp,
// no USER and no WORKDIR.
const Image = "localhost/axontask-test:busybox"

// busybox is where Debian's busybox-static puts its binary.
const busybox = "/bin/busybox"

// applets are the commands the test image links to busybox.
var applets = []string{"sh", "echo", "cat", "sleep", "true", "false", "printf", "id", "ls", "head", "yes", "dd", "seq", "env", "pwd", "touch", "mkdir", "rm", "kill", "trap", "wc", "tr"}

// engines holds this process's throwaway engine, under the one key.
var engines = testproc.Servers[struct{}]{Start: func(struct{}) (string, func(), error) { return Start() }}

// imageOnce makes Image on the engine once per test binary.
var (
	imageOnce sync.Once
	imageErr  error
)

// Main runs a package's tests and stops the throwaway engine afterwards.
func Main(m *testing.M) { engines.Main(m) }

// Stop stops the throwaway engine, if this process started one.
func Stop() { engines.StopAll() }

// Host returns the DOCKER_HOST of an engine that has Image, starting a
// throwaway engine on first use when EnvHost is not set. Without an
// engine it skips tb, or fails it when CI is set.
func Host(tb testing.TB) string {
	tb.Helper()
	host := os.Getenv(EnvHost)
	var err error
	if host == "" {
		host, err = engines.URL(struct{}{})
	}
	if err == nil {
		imageOnce.Do(func() { imageErr = makeImage(host) })
		err = imageErr
	}
	if err != nil {
		msg := fmt.Sprintf("no Docker Engine API for this test: %v\nInstall podman, runc and busybox-static (Debian: apt-get install -y podman runc busybox-static), or set %s.", err, EnvHost)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return host
}

// Client returns a client of the engine Host returns, closed when tb ends.
func Client(tb testing.TB) *client.Client {
	tb.Helper()
	c, err := client.New(client.WithHost(Host(tb)))
	if err != nil {
		tb.Fatalf("docker client: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Start starts a throwaway podman service and returns its DOCKER_HOST and
// a function that stops it and removes its files. Host starts one for
// tests; a program that is not a test calls Start.
func Start() (string, func(), error) {
	bin, err := exec.LookPath("podman")
	if err != nil {
		return "", nil, errors.New("no podman on PATH")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return "", nil, errors.New("no runc on PATH")
	}
	dir, err := os.MkdirTemp("", "axontask-podman-")
	if err != nil {
		return "", nil, err
	}
	removeDir := func() { _ = os.RemoveAll(dir) }
	if err := writeConfig(dir); err != nil {
		removeDir()
		return "", nil, err
	}
	host := "unix://" + filepath.Join(dir, "engine.sock")
	cmd := exec.CommandContext(context.Background(), bin, "system", "service", "--time=0", host)
	cmd.Env = append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "xdg"),
		"TMPDIR="+filepath.Join(dir, "tmp"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	proc, err := testproc.StartProcess(cmd)
	if err != nil {
		removeDir()
		return "", nil, fmt.Errorf("start podman system service: %w", err)
	}
	stop := func() {
		removeContainers(host)
		proc.Stop(syscall.SIGTERM, 10*time.Second)
		removeDir()
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		stop()
		return "", nil, err
	}
	defer func() { _ = c.Close() }()
	err = proc.WaitReady(context.Background(), 30*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
		_, err := c.Ping(ctx, client.PingOptions{})
		return err
	})
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("podman system service: %w; its output: %s", err, logs.String())
	}
	return host, stop, nil
}

// removeContainers removes every container of the engine at host, so that
// none of their processes (conmon, the container's own) outlives it.
func removeContainers(host string) {
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return
	}
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return
	}
	for _, ct := range list.Items {
		_, _ = c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
	}
}

// writeConfig writes the throwaway engine's containers.conf and
// storage.conf into dir, with every path of its own under dir.
func writeConfig(dir string) error {
	for _, sub := range []string{"root", "run", "tmp", "xdg", "engine-tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	containers := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
# Locks in files under tmp_dir: the default, a shared memory segment of the
# machine, would be shared with the engines of other test binaries.
lock_type = "file"
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "engine-tmp"))
	storage := fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "run"))
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(containers), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "storage.conf"), []byte(storage), 0o600)
}

// makeImage imports Image into the engine at host, from a root filesystem
// of busybox-static, through the Engine API.
func makeImage(host string) error {
	rootfs, err := busyboxRootfs()
	if err != nil {
		return err
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := c.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, Image, client.ImageImportOptions{})
	if err != nil {
		return fmt.Errorf("import the test image: %w", err)
	}
	defer func() { _ = res.Close() }()
	if _, err := io.Copy(io.Discard, res); err != nil {
		return fmt.Errorf("import the test image: %w", err)
	}
	if _, err := c.ImageInspect(ctx, Image); err != nil {
		return fmt.Errorf("the imported test image: %w", err)
	}
	return nil
}

// busyboxRootfs returns a tar of /bin/busybox and its applets' links.
func busyboxRootfs() ([]byte, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("read %s (Debian: apt-get install -y busybox-static): %w", busybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	hdrs := []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now},
		{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin)), ModTime: now},
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(bin); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range applets {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777, ModTime: now}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
