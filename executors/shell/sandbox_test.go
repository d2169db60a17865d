package shell_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/sandbox"
	"github.com/axontask/axontask/executors/shell"
	"github.com/axontask/axontask/internal/testproc"
)

// The escape suite: what a hostile tenant's task tries, run as a task in
// the sandbox, each with the exact outcome it must get.

var (
	sandboxOnce sync.Once
	sharedSB    *sandbox.Sandbox
	sandboxErr  error
)

// newSandboxed returns an executor that runs tasks in this test process's
// sandbox. The sandbox must work here: .ci/run installs bubblewrap.
func newSandboxed(t *testing.T) *shell.Executor {
	t.Helper()
	sandboxOnce.Do(func() {
		sharedSB, sandboxErr = sandbox.New(sandbox.Config{RequireCgroups: os.Geteuid() == 0, GracePeriod: time.Second})
	})
	if sandboxErr != nil {
		t.Fatalf("the sandbox must work where the tests run: %v", sandboxErr)
	}
	return newExecutor(t, shell.Config{Sandbox: sharedSB, GracePeriod: time.Second})
}

// runIn runs a shell script in e with limits, to its end.
func runIn(t *testing.T, ctx context.Context, e *shell.Executor, script string, limits domain.TaskLimits) (*recorder, outcome) {
	t.Helper()
	r := newRecorder(t)
	tk := task(argv("bash", "-c", script))
	tk.Limits = limits
	begin := time.Now()
	res, err := e.Run(ctx, tk, r)
	r.done.Store(true)
	return r, outcome{res: res, err: err, elapsed: time.Since(begin)}
}

// listen opens a TCP listener on loopback that must see no connection.
func listen(t *testing.T) (port int, accepted func() bool) {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().(*net.TCPAddr).Port, func() bool {
		_ = l.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
		c, err := l.Accept()
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}
}

func TestSandboxEscapes(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)

	// A data directory of the worker, readable by anyone on the host.
	dataDir, err := os.MkdirTemp("", "axontask-data-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dataDir) })
	keyFile := filepath.Join(dataDir, "token.key")
	if err := os.WriteFile(keyFile, []byte("the-signing-key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	apiPort, apiAccepted := listen(t)
	otherPort, otherAccepted := listen(t)

	tests := []struct {
		name   string
		script string
		want   []string // in the task's merged output
		never  []string // nowhere in it
	}{
		{"read the data directory and a key file", "cat " + keyFile + "; ls " + dataDir,
			[]string{keyFile + ": No such file or directory", dataDir + "': No such file or directory"}, []string{"the-signing-key"}},
		{"read the worker's environment", fmt.Sprintf("cat /proc/%d/environ; cat /proc/1/environ; env", os.Getpid()),
			[]string{fmt.Sprintf("/proc/%d/environ: No such file or directory", os.Getpid())}, []string{"hunter2", secretVar}},
		{"connect to the API's port", fmt.Sprintf("echo x > /dev/tcp/127.0.0.1/%d", apiPort), []string{"Connection refused"}, nil},
		{"connect to another local port", fmt.Sprintf("echo x > /dev/tcp/127.0.0.1/%d", otherPort), []string{"Connection refused"}, nil},
		{"connect to the cloud metadata address", "echo x > /dev/tcp/169.254.169.254/80", []string{"Network is unreachable"}, nil},
		{"write outside the work directory",
			`for p in /usr/x /etc/passwd /x /proc/sys/kernel/hostname /.axontask/init; do echo x > $p && echo "WROTE $p"; done; echo ok > /work/x && echo ok > /tmp/x && echo wrote-work-and-tmp`,
			[]string{"/usr/x: Read-only file system", "/x: Read-only file system", "wrote-work-and-tmp"}, []string{"WROTE"}},
		{"no privileges", "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status",
			[]string{"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"}, nil},
		{"make namespaces", "unshare -U true || echo refused-userns; unshare -m true || echo refused-mountns",
			[]string{"refused-userns", "refused-mountns"}, nil},
		{"see the host's processes", "ls /proc | grep -c '^[0-9]'; ps -e -o comm=", []string{"init\n"}, []string{"go\n", "sshd", "postgres"}},
		{"mount or trace", "mount -t tmpfs none /work 2>&1 || echo refused-mount; kill -0 1 && echo can-signal-init",
			[]string{"refused-mount"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, o := runIn(t, t.Context(), e, tt.script, domain.TaskLimits{})
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			out := r.Stream(domain.Stdout) + r.Stream(domain.Stderr)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
	// The parent's cleanups run once its parallel subtests have ended, and
	// this one before the listeners close.
	t.Cleanup(func() {
		if apiAccepted() || otherAccepted() {
			t.Error("a task reached a port of the host")
		}
	})
}

func TestSandboxHidesOtherTasks(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a := newRecorder(t)
	secret := &domain.ShellArgs{
		Command: []string{"sh", "-c", "echo a-secret > /work/a-secret-file; echo a-secret > /tmp/a-secret-file; echo ready $(id -u); sleep 60"},
		Env:     map[string]domain.SecretString{"TASK_A_PASSWORD": domain.Lit("a-secret-value")},
	}
	done := start(ctx, e, secret, a)
	a.waitUntil(t, "task A ready", func(r *recorder) bool { return strings.Contains(r.Stream(domain.Stdout), "ready") })

	r, o := runIn(t, t.Context(), e, `grep -rs TASK_A_PASSWORD /proc/*/environ; ls -A /work /tmp; find / -name 'a-secret*' 2>/dev/null; echo end $(id -u)`, domain.TaskLimits{})
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	out := r.Stream(domain.Stdout) + r.Stream(domain.Stderr)
	if !strings.Contains(out, "end") || strings.Contains(out, "a-secret") || strings.Contains(out, "TASK_A_PASSWORD") {
		t.Errorf("task B saw task A:\n%s", out)
	}
	// A root worker runs them as different host uids, so that no per-user
	// count of the kernel is shared.
	uidA := strings.TrimSpace(strings.TrimPrefix(a.Stream(domain.Stdout), "ready"))
	uidB := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Stream(domain.Stdout)[strings.LastIndex(r.Stream(domain.Stdout), "end"):]), "end"))
	if os.Geteuid() == 0 && (uidA == uidB || uidA == "") {
		t.Errorf("tasks running at once share uid %q (A) and %q (B)", uidA, uidB)
	}
	cancel()
	<-done
}

// escapers starts processes that try to outlive their task: setsid, a
// double fork, a subshell in the background; each sleeps for secs.
func escapers(secs int) string {
	return fmt.Sprintf(`setsid sleep %[1]d & (sleep %[1]d &) ; sh -c 'sleep %[1]d &'; nohup sleep %[1]d >/dev/null 2>&1 & echo ready; sleep %[1]d`, secs)
}

func TestSandboxNothingOutlivesItsTask(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)
	check := func(t *testing.T, marker string) {
		t.Helper()
		if left := testproc.Matching(marker); len(left) > 0 {
			t.Errorf("processes of the task outlived it: %v", left)
		}
	}
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		r := newRecorder(t)
		done := start(ctx, e, argv("bash", "-c", escapers(311)), r)
		r.waitUntil(t, "ready", func(r *recorder) bool { return strings.Contains(r.Stream(domain.Stdout), "ready") })
		cancel()
		if o := <-done; !errors.Is(o.err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", o.err)
		}
		check(t, "sleep 311")
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, o := runIn(t, ctx, e, escapers(312), domain.TaskLimits{})
		if !errors.Is(o.err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want context.DeadlineExceeded", o.err)
		}
		check(t, "sleep 312")
	})
	t.Run("main process exits", func(t *testing.T) {
		t.Parallel()
		_, o := runIn(t, t.Context(), e, "setsid sleep 313 & (sleep 313 &); echo bye", domain.TaskLimits{})
		if o.err != nil || !strings.Contains(o.res.Summary, "left running were stopped") {
			t.Fatalf("Run = %+v, %v; want exit 0 with its leftovers stopped", o.res, o.err)
		}
		check(t, "sleep 313")
	})
	t.Run("worker killed", func(t *testing.T) {
		t.Parallel()
		dir, err := os.MkdirTemp("", "axontask-sandbox-test-") // it and its parents must let the tasks' uids pass
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerChildVar+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.Contains(line, "ready") {
			_ = cmd.Process.Kill()
			t.Fatalf("worker child: %q, %v", line, err)
		}
		if len(testproc.Matching("sleep 314")) == 0 {
			t.Fatal("the worker child's task is not running")
		}
		_ = cmd.Process.Kill() // kill -9
		_ = cmd.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for len(testproc.Matching("sleep 314")) > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		check(t, "sleep 314")
		// The next sandbox on the same directory removes what the dead
		// worker left there.
		left, _ := filepath.Glob(filepath.Join(dir, "w*"))
		if len(left) != 1 {
			t.Fatalf("the dead worker left %d directories in %s, want its one", len(left), dir)
		}
		next, err := sandbox.New(sandbox.Config{Dir: dir, GracePeriod: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer next.Close()
		if _, err := os.Stat(left[0]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the dead worker's directory is still there: %v", err)
		}
	})
}

// workerChildVar makes the test binary a worker that runs one sandboxed
// task until it is killed (see TestSandboxNothingOutlivesItsTask).
const workerChildVar = "AXONTASK_SHELL_TEST_WORKER_CHILD"

// workerChild runs escapers in a sandbox in the directory that
// workerChildVar names, says "ready" on stdout once they run, and waits
// to be killed.
func workerChild() int {
	sb, err := sandbox.New(sandbox.Config{Dir: os.Getenv(workerChildVar)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	e, err := shell.New(shell.Config{Sandbox: sb})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	sink := &lineSink{ready: make(chan struct{})}
	go func() {
		_, _ = e.Run(context.Background(), task(argv("bash", "-c", escapers(314))), sink)
	}()
	<-sink.ready
	time.Sleep(100 * time.Millisecond) // the escapers start
	fmt.Println("ready")
	select {}
}

// lineSink closes ready when the task prints "ready".
type lineSink struct {
	once  sync.Once
	ready chan struct{}
}

func (s *lineSink) Output(_ domain.OutputStream, data []byte) {
	if strings.Contains(string(data), "ready") {
		s.once.Do(func() { close(s.ready) })
	}
}

func (s *lineSink) Progress(float64, string) {}

func TestSandboxLimits(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)
	tests := []struct {
		name   string
		script string
		limits domain.TaskLimits
		limit  string // the LimitError's start; "" when the task ends by itself
		want   string // in the output, when limit is ""
		code   int
	}{
		{"fork bomb", "f(){ f | f & }; f; sleep 60", domain.TaskLimits{Pids: 64}, "too many processes", "", 0},
		{"memory hog", "tail /dev/zero", domain.TaskLimits{MemoryBytes: 64 << 20}, "out of memory", "", 0},
		{"work directory filler", "for i in 1 2 3 4 5 6 7 8; do head -c 4000000 /dev/zero > f$i; done; sleep 60", domain.TaskLimits{WorkDirBytes: 8 << 20}, "work directory full", "", 0},
		{"big file", "head -c 2000000 /dev/zero > big", domain.TaskLimits{FileSizeBytes: 1 << 20}, "", "", 128 + 25},
		{"open files", "ulimit -n", domain.TaskLimits{OpenFiles: 64}, "", "64\n", 0},
		{"a deleted file kept open", "exec 3>/work/big; rm /work/big; head -c 20000000 /dev/zero >&3; sleep 60", domain.TaskLimits{WorkDirBytes: 8 << 20}, "work directory full", "", 0},
		{"fallocate", "fallocate -l 1G /work/big; sleep 60", domain.TaskLimits{WorkDirBytes: 8 << 20}, "work directory full", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.limit != "" && os.Geteuid() != 0 {
				t.Skip("cgroup limits need a root worker here")
			}
			if tt.limits.WorkDirBytes > 0 && sharedSB.Report.WorkDir != "a filesystem per task" {
				t.Skipf("the kernel bounds a task's files only on a filesystem of its own, and this worker cannot make one: %s", sharedSB.Report.WorkDirWhy)
			}
			r, o := runIn(t, t.Context(), e, tt.script, tt.limits)
			var le *executors.LimitError
			switch {
			case tt.limit != "":
				if !errors.As(o.err, &le) || !strings.HasPrefix(le.Reason, tt.limit) {
					t.Fatalf("Run = %+v, %v; want a LimitError %q", o.res, o.err, tt.limit)
				}
			case o.err != nil || o.res.ExitCode != tt.code || !strings.Contains(r.Stream(domain.Stdout), tt.want):
				t.Fatalf("Run = %+v, %v, output %q; want exit code %d and %q", o.res, o.err, r.Stream(domain.Stdout), tt.code, tt.want)
			}
		})
	}
}

func TestSandboxWorkingDirectory(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)
	r, o := run(t, t.Context(), e, &domain.ShellArgs{Command: []string{"sh", "-c", "pwd; echo $HOME $TMPDIR"}, Cwd: "src/app"})
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	if got := r.Stream(domain.Stdout); got != "/work/src/app\n/work /tmp\n" {
		t.Errorf("output %q, want the cwd inside /work, then HOME and TMPDIR", got)
	}
}

// egressTo returns a sandbox, closed when the test ends, whose tasks may
// reach target alone through the egress proxy (a loopback test server,
// which the default policy refuses).
func egressTo(t *testing.T, target netip.AddrPort) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{GracePeriod: time.Second, EgressAllow: func(ap netip.AddrPort) error {
		if ap != target {
			return fmt.Errorf("%s is not the test server", ap)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

// egressProbe asks the proxy for each URL and prints its status code, as
// "name:code" lines.
func egressProbe(urls map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(urls)) {
		fmt.Fprintf(&b, "curl -sS -o /dev/null --max-time 10 --noproxy '' -x \"$HTTP_PROXY\" -w '%s:%%{http_code}\\n' %s;\n", name, urls[name])
	}
	return b.String()
}

func TestSandboxEgress(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)
	apiPort, apiAccepted := listen(t)
	t.Run("refused where it must be", func(t *testing.T) {
		r, o := runIn(t, t.Context(), e, egressProbe(map[string]string{
			"api":       fmt.Sprintf("http://127.0.0.1:%d/", apiPort),
			"localhost": fmt.Sprintf("http://localhost:%d/", apiPort),
			"metadata":  "http://169.254.169.254/latest/meta-data/",
			"private":   "http://10.1.2.3/",
			"tunnel":    fmt.Sprintf("-p http://127.0.0.1:%d/", apiPort),
		}), domain.TaskLimits{Egress: true})
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		out := r.Stream(domain.Stdout)
		for _, want := range []string{"api:403", "localhost:403", "metadata:403", "private:403", "tunnel:000"} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("output lacks %q:\n%s\n%s", want, out, r.Stream(domain.Stderr))
			}
		}
		if !strings.Contains(r.Stream(domain.Stderr), "CONNECT tunnel failed, response 403") {
			t.Errorf("the tunnel to the API's port was not refused by the proxy:\n%s", r.Stream(domain.Stderr))
		}
		if apiAccepted() {
			t.Error("the proxy connected to the API's port")
		}
	})
	t.Run("none without the plan's egress", func(t *testing.T) {
		r, o := runIn(t, t.Context(), e, `echo "proxy=${HTTP_PROXY:-none}"; curl -sS --max-time 5 http://example.com/ || true`, domain.TaskLimits{})
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		if out := r.Stream(domain.Stdout) + r.Stream(domain.Stderr); !strings.Contains(out, "proxy=none") || !strings.Contains(out, "Could not resolve host") {
			t.Errorf("a task without egress has a way out:\n%s", out)
		}
	})
	t.Run("through to an allowed address", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello from outside") }))
		defer srv.Close()
		allowed := netip.MustParseAddrPort(srv.Listener.Addr().String())
		sb := egressTo(t, allowed)
		r, o := runIn(t, t.Context(), newExecutor(t, shell.Config{Sandbox: sb}),
			fmt.Sprintf(`curl -sS --noproxy '' %[1]s; echo; curl -sS --noproxy '' -p %[1]s`, srv.URL), domain.TaskLimits{Egress: true})
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		if out := r.Stream(domain.Stdout); out != "hello from outside\nhello from outside" {
			t.Errorf("output %q, want the server's answer twice (forwarded, then tunnelled)\n%s", out, r.Stream(domain.Stderr))
		}
	})
}

func TestSandboxCommandHasOnlyItsStandardFiles(t *testing.T) {
	t.Parallel()
	r, o := runIn(t, t.Context(), newSandboxed(t), "ls /proc/self/fd", domain.TaskLimits{Egress: true})
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	// 0, 1, 2, and the directory ls reads.
	if got := r.Stream(domain.Stdout); got != "0\n1\n2\n3\n" {
		t.Errorf("the command's open files: %q, want only stdin, stdout, stderr (and ls's own 3)", got)
	}
}

// compatProbe makes system calls the deny list refuses through the
// i386 ABI (int $0x80), which a 64-bit process can still use.
const compatProbe = `#include <stdio.h>
static long sys32(long nr, long a, long b, long c) {
	long ret;
	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}
int main(void) {
	printf("keyctl=%ld\n", sys32(288, 0, -4, 0));
	printf("ptrace=%ld\n", sys32(26, 0, 0, 0));
	printf("userfaultfd=%ld\n", sys32(374, 1, 0, 0));
	printf("getpid=%ld\n", sys32(20, 0, 0, 0));
	return 0;
}
`

func TestSandboxRefusesOtherABIs(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("gcc"); err != nil || runtime.GOARCH != "amd64" {
		t.Skip("needs gcc on x86_64")
	}
	script := "cat > probe.c <<'EOF'\n" + compatProbe + "EOF\ngcc -o probe probe.c && ./probe"
	i386 := hostRunsI386(t)
	r, o := runIn(t, t.Context(), newSandboxed(t), script, domain.TaskLimits{})
	if !i386 {
		// A kernel without the i386 ABI (CONFIG_IA32_EMULATION off, or
		// ia32_emulation=0) faults on int $0x80 outside the sandbox too:
		// inside it, the probe must fault the same way.
		if o.err != nil || o.res.ExitCode != 139 {
			t.Fatalf("Run = %+v, %v, want the segmentation fault of a kernel without the i386 ABI\n%s", o.res, o.err, r.Stream(domain.Stderr))
		}
		t.Skip("this kernel has no i386 ABI (int $0x80 faults outside the sandbox too): the sandbox's refusal of its calls cannot be seen")
	}
	if o.err != nil || o.res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v\n%s", o.res, o.err, r.Stream(domain.Stderr))
	}
	// -38 is -ENOSYS: no call of the i386 ABI reaches the kernel, not even
	// a harmless one.
	if got := r.Stream(domain.Stdout); got != "keyctl=-38\nptrace=-38\nuserfaultfd=-38\ngetpid=-38\n" {
		t.Errorf("i386 system calls from the sandbox: %q, want each refused with -ENOSYS", got)
	}
}

// getpidProbe makes one harmless system call of the i386 ABI, getpid.
const getpidProbe = `int main(void) {
	long ret;
	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : 1;
}
`

// hostRunsI386 reports whether the kernel runs system calls of the i386
// ABI outside any sandbox: it builds getpidProbe and runs it directly. A
// probe killed by SIGSEGV means the kernel has no i386 ABI.
func hostRunsI386(t *testing.T) bool {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "probe.c")
	if err := os.WriteFile(src, []byte(getpidProbe), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), "gcc", "-o", filepath.Join(dir, "probe"), src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	err := exec.CommandContext(t.Context(), filepath.Join(dir, "probe")).Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGSEGV:
		return false
	default:
		t.Fatalf("the i386 probe outside the sandbox: %v", err)
		return false
	}
}

func TestSandboxRefusesVMSockets(t *testing.T) {
	t.Parallel()
	r, o := runIn(t, t.Context(), newSandboxed(t), `perl -MSocket -e 'socket(my $s, 40, SOCK_STREAM, 0) or print "refused: $!\n"'`, domain.TaskLimits{})
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	if got := r.Stream(domain.Stdout); got != "refused: Operation not permitted\n" {
		t.Errorf("socket(AF_VSOCK) in the sandbox: %q, want EPERM\n%s", got, r.Stream(domain.Stderr))
	}
}

// A task's tunnels through the egress proxy end with the task, even to a
// server that never answers.
func TestSandboxEgressEndsWithTheTask(t *testing.T) {
	t.Parallel()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	target := netip.MustParseAddrPort(l.Addr().String())
	sb := egressTo(t, target)
	script := fmt.Sprintf(`for i in 1 2 3; do curl -s -p --noproxy '' http://%s/ & done; sleep 1`, target)
	if _, o := runIn(t, t.Context(), newExecutor(t, shell.Config{Sandbox: sb}), script, domain.TaskLimits{Egress: true}); o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	for range 3 {
		var c net.Conn
		select {
		case c = <-accepted:
		case <-time.After(10 * time.Second):
			t.Fatal("the task's tunnels never reached the server")
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil { // what curl sent, then EOF
			t.Errorf("a tunnel of a task that has ended: read %v, want EOF", err)
		}
		_ = c.Close()
	}
}

// A command starts with no signal blocked or ignored, whatever thread of
// the worker or of init forked it, and whatever the worker was started
// with: a command deaf to SIGTERM is only stopped by the SIGKILL after the
// grace period. (Real-time signals, 32 and up, are the C library's and
// the environment's.)
func TestSandboxCommandStartsWithSignalsUnblocked(t *testing.T) {
	t.Parallel()
	e := newSandboxed(t)
	for range 8 {
		r, o := runIn(t, t.Context(), e, "exec grep -E '^Sig(Blk|Ign):' /proc/self/status", domain.TaskLimits{})
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		var blocked, ignored uint64
		if _, err := fmt.Sscanf(r.Stream(domain.Stdout), "SigBlk:\t%x\nSigIgn:\t%x\n", &blocked, &ignored); err != nil {
			t.Fatalf("read %q: %v", r.Stream(domain.Stdout), err)
		}
		const standard = 1<<31 - 1
		if blocked != 0 || ignored&standard != 0 {
			t.Fatalf("the command starts with signals blocked %#x and ignored %#x, want none of 1–31", blocked, ignored&standard)
		}
	}
}

// A protocol upgrade through the proxy's forwarding path is refused: the
// upgraded connection would escape the proxy's bounds and outlive the
// task.
func TestSandboxEgressRefusesUpgrades(t *testing.T) {
	t.Parallel()
	upgraded := make(chan net.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		_ = buf.Flush()
		upgraded <- c // and never read, never close
	}))
	defer srv.Close()
	allowed := netip.MustParseAddrPort(srv.Listener.Addr().String())
	sb := egressTo(t, allowed)
	script := fmt.Sprintf(`curl -s --max-time 10 -o /dev/null -w '%%{http_code}' --noproxy '' -H 'Connection: Upgrade' -H 'Upgrade: websocket' %s/`, srv.URL)
	r, o := runIn(t, t.Context(), newExecutor(t, shell.Config{Sandbox: sb}), script, domain.TaskLimits{Egress: true})
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	if got := r.Stream(domain.Stdout); got != "502" {
		t.Errorf("an upgrade through the proxy answered %q, want 502", got)
	}
	select {
	case c := <-upgraded:
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("the upstream of a refused upgrade: read %v, want it closed", err)
		}
		_ = c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the upgrade never reached the server")
	}
}
