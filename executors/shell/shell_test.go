package shell_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/shell"
	"github.com/axontask/axontask/internal/testproc"
)

var errStop = errors.New("stop requested by the test")

func TestStdoutAndStderrApart(t *testing.T) {
	t.Parallel()
	r, o := run(t, t.Context(), newExecutor(t, shell.Config{}),
		argv("sh", "-c", `printf 'out1\n'; printf 'err1\n' >&2; printf 'out2\n'; printf 'err2' >&2; printf 'out3'`))
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	if got := r.Stream(domain.Stdout); got != "out1\nout2\nout3" {
		t.Errorf("stdout %q", got)
	}
	if got := r.Stream(domain.Stderr); got != "err1\nerr2" {
		t.Errorf("stderr %q", got)
	}
	if o.res.ExitCode != 0 || o.res.Summary != "exit code 0" {
		t.Errorf("Result %+v", o.res)
	}
}

func TestExactBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	random := make([]byte, 1<<20)
	_, _ = rand.Read(random)
	// A stray "\n::progress 1\n" in random bytes is as good as impossible.
	if err := os.WriteFile(filepath.Join(dir, "random"), random, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		command []string
		stdout  string
		stderr  string
	}{
		{"binary-ish without trailing newline", []string{"printf", `\000\001\377\376a\tb\r\n\033[0m\000`}, "\x00\x01\xff\xfea\tb\r\n\x1b[0m\x00", ""},
		{"only newlines", []string{"printf", `\n\n\n`}, "\n\n\n", ""},
		{"nothing", []string{"true"}, "", ""},
		{"stdin is empty", []string{"cat"}, "", ""},
		{"a mebibyte of random bytes on stdout", []string{"cat", "random"}, string(random), ""},
		{"a mebibyte of random bytes on stderr", []string{"sh", "-c", "cat random >&2"}, "", string(random)},
		{"argv is not interpreted by a shell", []string{"printf", "%s|", "$HOME", "*", "a b", "'q'", "`id`"}, "$HOME|*|a b|'q'|`id`|", ""},
	}
	e := newExecutor(t, shell.Config{DefaultDir: dir})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, o := run(t, t.Context(), e, argv(tt.command...))
			if o.err != nil || o.res.ExitCode != 0 {
				t.Fatalf("Run: %+v %v", o.res, o.err)
			}
			if got := r.Stream(domain.Stdout); got != tt.stdout {
				t.Errorf("stdout: %d bytes %q…, want %d bytes %q…", len(got), trunc(got), len(tt.stdout), trunc(tt.stdout))
			}
			if got := r.Stream(domain.Stderr); got != tt.stderr {
				t.Errorf("stderr: %d bytes %q…, want %d bytes %q…", len(got), trunc(got), len(tt.stderr), trunc(tt.stderr))
			}
			for _, c := range r.Calls() {
				if c.stream == "" {
					t.Errorf("unexpected %s", c)
				}
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func TestProgressProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stdout string
		want   []string
	}{
		{
			name:   "progress lines become Progress and leave the output",
			stdout: "a\n::progress 10 compiling stuff\nb\n::progress 50\n::progress 12.5 half of  it \n::progress 100 \n::progress 7 crlf\r\nend",
			want: []string{
				`stdout "a\n"`, `progress 10 "compiling stuff"`, `stdout "b\n"`, `progress 50 ""`,
				`progress 12.5 "half of  it "`, `progress 100 ""`, `progress 7 "crlf"`, `stdout "end"`,
			},
		},
		{
			name: "malformed progress lines pass through",
			stdout: "::progress x\n::progress\n::progress \n::progress 101 too much\n::progress -1\n::progress 1e2\n" +
				"::progress 0x10\n::progress NaN\n::progress 1.2.3\n::progress  5\n ::progress 5\n::Progress 5\n::progress\t5\n::progress 5x y\n",
			want: []string{`stdout "::progress x\n::progress\n::progress \n::progress 101 too much\n::progress -1\n::progress 1e2\n` +
				`::progress 0x10\n::progress NaN\n::progress 1.2.3\n::progress  5\n ::progress 5\n::Progress 5\n::progress\t5\n::progress 5x y\n"`},
		},
		{
			name:   "an unterminated last line is a line",
			stdout: "x\n::progress 99.5 almost",
			want:   []string{`stdout "x\n"`, `progress 99.5 "almost"`},
		},
		{
			name:   "bounds and forms of percent",
			stdout: "::progress 0\n::progress 100\n::progress 007\n::progress .5\n::progress 3.\n",
			want:   []string{`progress 0 ""`, `progress 100 ""`, `progress 7 ""`, `progress 0.5 ""`, `progress 3 ""`},
		},
		{
			name:   "the protocol is on stdout only",
			stdout: "",
			want:   []string{`stderr "::progress 5 on stderr\n"`},
		},
	}
	e := newExecutor(t, shell.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := argv("printf", "%s", tt.stdout)
			if tt.stdout == "" {
				args = argv("sh", "-c", `printf '::progress 5 on stderr\n' >&2`)
			}
			r, o := run(t, t.Context(), e, args)
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			if got := strings.Join(r.Merged(), "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestProgressLineWrittenInPieces(t *testing.T) {
	t.Parallel()
	// The child pauses mid-line for 20 times FlushDelay.
	tests := []struct {
		name, script string
		want         []string
	}{
		{
			name:   "a partial progress line waits for its newline",
			script: `printf '::prog'; sleep 1; printf 'ress 42 slow\n'`,
			want:   []string{`progress 42 "slow"`},
		},
		{
			name:   "a partial line that cannot be progress is flushed",
			script: `printf '::x'; sleep 1; printf 'yz\n'`,
			want:   []string{`stdout "::xyz\n"`},
		},
		{
			name:   "the rest of a flushed line is never progress",
			script: `printf 'abc'; sleep 1; printf '::progress 5\n'`,
			want:   []string{`stdout "abc::progress 5\n"`},
		},
	}
	e := newExecutor(t, shell.Config{FlushDelay: 50 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, o := run(t, t.Context(), e, argv("sh", "-c", tt.script))
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			if got := strings.Join(r.Merged(), "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPartialLineStreams(t *testing.T) {
	t.Parallel()
	for _, stream := range []domain.OutputStream{domain.Stdout, domain.Stderr} {
		t.Run(string(stream), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			script := `printf 'no newline yet'; exec sleep 100`
			if stream == domain.Stderr {
				script = `printf 'no newline yet' >&2; exec sleep 100`
			}
			r := newRecorder(t)
			done := start(ctx, newExecutor(t, shell.Config{}), argv("sh", "-c", script), r)
			// The process is still running: the partial line arrives anyway.
			r.waitUntil(t, "the partial line", func(r *recorder) bool { return r.Stream(stream) == "no newline yet" })
			cancel(errStop)
			if o := <-done; !errors.Is(o.err, errStop) {
				t.Fatalf("Run error = %v, want one wrapping the cancel cause", o.err)
			}
		})
	}
}

func TestLongLines(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, shell.Config{MaxLineBytes: 64, FlushDelay: 10 * time.Second})
	t.Run("a progress line longer than MaxLineBytes is output", func(t *testing.T) {
		t.Parallel()
		line := "::progress 50 " + strings.Repeat("x", 100) + "\n"
		r, o := run(t, t.Context(), e, argv("printf", "%s", line))
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		if got := strings.Join(r.Merged(), "\n"); got != `stdout "`+strings.TrimSuffix(line, "\n")+`\n"` {
			t.Errorf("calls %s", got)
		}
	})
	t.Run("a line without newline streams in pieces", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		r := newRecorder(t)
		// FlushDelay is 10 s: only the size limit can flush it.
		done := start(ctx, e, argv("sh", "-c", `printf '%0100d' 0; exec sleep 100`), r)
		r.waitUntil(t, "the first 64 bytes", func(r *recorder) bool { return len(r.Stream(domain.Stdout)) >= 64 })
		cancel(errStop)
		<-done
		if got := r.Stream(domain.Stdout); got != strings.Repeat("0", 100) {
			t.Errorf("stdout %q", got)
		}
	})
	t.Run("200,000 bytes without newline arrive complete", func(t *testing.T) {
		t.Parallel()
		r, o := run(t, t.Context(), e, argv("sh", "-c", `head -c 200000 /dev/zero | tr '\0' a`))
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		if got := r.Stream(domain.Stdout); got != strings.Repeat("a", 200000) {
			t.Errorf("stdout: %d bytes", len(got))
		}
	})
}

func TestChunksAreValidUTF8(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// 3-byte runes without newlines: reads and size flushes cut them.
	text := strings.Repeat("€", 100000) + "\n" + strings.Repeat("é€😀", 20000)
	if err := os.WriteFile(filepath.Join(dir, "text"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newExecutor(t, shell.Config{DefaultDir: dir, MaxLineBytes: 100, FlushDelay: 10 * time.Second})
	r, o := run(t, t.Context(), e, argv("sh", "-c", `cat text; cat text >&2`))
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	for _, s := range []domain.OutputStream{domain.Stdout, domain.Stderr} {
		if got := r.Stream(s); got != text {
			t.Errorf("%s: %d bytes, want %d", s, len(got), len(text))
		}
	}
	for i, c := range r.Calls() {
		if !utf8.Valid(c.data) {
			t.Fatalf("call %d (%s, %d bytes) is not valid UTF-8", i, c.stream, len(c.data))
		}
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	envPath, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env command")
	}
	script := `echo "secret=${` + secretVar + `-unset} foo=${FOO-unset} home=$HOME path=${PATH:+set}"`
	tests := []struct {
		name    string
		allow   []string
		command []string
		env     map[string]domain.SecretString
		want    string
	}{
		{
			name:    "worker vars off the allow list are hidden; args.env is visible and wins",
			command: []string{"sh", "-c", script},
			env:     map[string]domain.SecretString{"FOO": domain.Lit("bar baz"), "HOME": domain.Lit("/override")},
			want:    "secret=unset foo=bar baz home=/override path=set\n",
		},
		{
			name:    "an allow-listed worker var is visible",
			allow:   []string{"PATH", secretVar},
			command: []string{"sh", "-c", script},
			want:    "secret=hunter2 foo=unset home= path=set\n",
		},
		{
			name:    "an empty allow list passes nothing; the environment is exactly args.env",
			allow:   []string{},
			command: []string{envPath},
			env:     map[string]domain.SecretString{"B": domain.Lit("2"), "A": domain.Lit("1=one")},
			want:    "A=1=one\nB=2\n",
		},
		{
			name:    "PATH from args.env finds the command",
			allow:   []string{},
			command: []string{"env"},
			env:     map[string]domain.SecretString{"PATH": domain.Lit(filepath.Dir(envPath))},
			want:    "PATH=" + filepath.Dir(envPath) + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newExecutor(t, shell.Config{EnvAllowList: tt.allow})
			r, o := run(t, t.Context(), e, &domain.ShellArgs{Command: tt.command, Env: tt.env})
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			if got := r.Stream(domain.Stdout); got != tt.want {
				t.Errorf("stdout %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWorkingDirectory(t *testing.T) {
	t.Parallel()
	realpath := func(t *testing.T, p string) string {
		t.Helper()
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	pwd := argv("sh", "-c", "pwd -P; echo made > made-here")

	t.Run("args.cwd is made in the work directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, o := run(t, t.Context(), newExecutor(t, shell.Config{DefaultDir: dir}), &domain.ShellArgs{Command: pwd.Command, Cwd: "src/app"})
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		want := filepath.Join(realpath(t, dir), "src", "app")
		if got := strings.TrimSpace(r.Stream(domain.Stdout)); got != want {
			t.Errorf("pwd %q, want %q", got, want)
		}
		if _, err := os.Stat(filepath.Join(want, "made-here")); err != nil {
			t.Errorf("args.cwd must be kept: %v", err)
		}
	})
	t.Run("DefaultDir", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, o := run(t, t.Context(), newExecutor(t, shell.Config{DefaultDir: dir}), pwd)
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		if got := strings.TrimSpace(r.Stream(domain.Stdout)); got != realpath(t, dir) {
			t.Errorf("pwd %q, want %q", got, dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "made-here")); err != nil {
			t.Errorf("DefaultDir must be kept: %v", err)
		}
	})
	t.Run("a fresh temporary directory, removed afterwards", func(t *testing.T) {
		t.Parallel()
		e := newExecutor(t, shell.Config{})
		script := "pwd -P; ls -A; mkdir -p ro/sub && touch ro/sub/f && chmod 500 ro/sub ro"
		r1, o1 := run(t, t.Context(), e, argv("sh", "-c", script))
		r2, o2 := run(t, t.Context(), e, argv("sh", "-c", script))
		if o1.err != nil || o2.err != nil || o1.res.ExitCode != 0 || o2.res.ExitCode != 0 {
			t.Fatalf("Run: %+v %v; %+v %v", o1.res, o1.err, o2.res, o2.err)
		}
		d1, d2 := r1.Stream(domain.Stdout), r2.Stream(domain.Stdout)
		if d1 == d2 {
			t.Errorf("two tasks shared the directory %q", d1)
		}
		for _, out := range []string{d1, d2} {
			dir := strings.TrimSpace(out) // ls -A printed nothing: it was empty
			if !strings.HasPrefix(dir, realpath(t, os.TempDir())) || !strings.Contains(dir, "axontask-01JTESTTASK-") {
				t.Errorf("working directory %q is not a task directory under %s", dir, os.TempDir())
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still exists after the task: %v", dir, err)
			}
		}
	})
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		command []string
		code    int
		summary string
	}{
		{"success", []string{"true"}, 0, "exit code 0"},
		{"failure", []string{"false"}, 1, "exit code 1"},
		{"exit 3", []string{"sh", "-c", "exit 3"}, 3, "exit code 3"},
		{"exit 255", []string{"sh", "-c", "exit 255"}, 255, "exit code 255"},
		{"killed by SIGTERM", []string{"sh", "-c", "kill -TERM $$"}, 143, "killed by signal 15 (terminated)"},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -KILL $$"}, 137, "killed by signal 9 (killed)"},
	}
	e := newExecutor(t, shell.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, o := run(t, t.Context(), e, argv(tt.command...))
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			if o.res.ExitCode != tt.code || o.res.Summary != tt.summary {
				t.Errorf("Result %+v, want code %d, summary %q", o.res, tt.code, tt.summary)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("not-executable.sh", "#!/bin/sh\necho hi\n", 0o644)
	write("no-shebang", "echo hi\n", 0o755)
	write("bad-interpreter", "#!/nonexistent/interpreter\necho hi\n", 0o755)
	write("a-file", "", 0o644)
	tests := []struct {
		name  string
		args  any
		allow []string
		want  []string // substrings of the message
	}{
		{"command not found", argv("definitely-not-a-command-axontask", "x"), nil,
			[]string{`"definitely-not-a-command-axontask"`, "not found in PATH", "install"}},
		{"relative path missing", argv("./missing"), nil, []string{`"./missing"`, filepath.Join(dir, "missing"), "does not exist"}},
		{"absolute path missing", argv("/nonexistent/bin/tool"), nil, []string{`"/nonexistent/bin/tool"`, "does not exist"}},
		{"not executable", argv("./not-executable.sh"), nil, []string{`"./not-executable.sh"`, "not executable", "chmod +x"}},
		{"a directory", argv(os.TempDir()), nil, []string{"is a directory"}},
		{"no #! line", argv("./no-shebang"), nil, []string{`"./no-shebang"`, "#! line"}},
		{"bad interpreter", argv("./bad-interpreter"), nil, []string{`"./bad-interpreter"`, "interpreter"}},
		{"no PATH", argv("sh", "-c", "true"), []string{}, []string{`"sh"`, "no PATH"}},
		{"cwd is a file", &domain.ShellArgs{Command: []string{"true"}, Cwd: "a-file"}, nil, []string{`"a-file"`, "not a directory"}},
		{"args of another adapter", &domain.MockArgs{Steps: 1}, nil, []string{"*domain.MockArgs", "*domain.ShellArgs"}},
		{"nil args", nil, nil, []string{"<nil>"}},
		{"nil pointer", (*domain.ShellArgs)(nil), nil, []string{"*domain.ShellArgs"}},
		{"empty argv", &domain.ShellArgs{}, nil, []string{"args.command"}},
		{"bad env name", &domain.ShellArgs{Command: []string{"true"}, Env: map[string]domain.SecretString{"A=B": domain.Lit("c")}}, nil, []string{"args.env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newExecutor(t, shell.Config{DefaultDir: dir, EnvAllowList: tt.allow})
			r, o := run(t, t.Context(), e, tt.args)
			var se *executors.StartError
			if !errors.As(o.err, &se) {
				t.Fatalf("Run = %+v, %v; want a *executors.StartError", o.res, o.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(o.err.Error(), w) {
					t.Errorf("error %q does not mention %q", o.err, w)
				}
			}
			if calls := r.Calls(); len(calls) != 0 {
				t.Errorf("calls %v from a task that could not start", calls)
			}
		})
	}
}

func TestCanceledBeforeStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errStop)
	r, o := run(t, ctx, newExecutor(t, shell.Config{DefaultDir: dir}), argv("touch", "ran"))
	if !errors.Is(o.err, errStop) {
		t.Fatalf("Run error = %v, want one wrapping the cancel cause", o.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command ran")
	}
	if len(r.Calls()) != 0 {
		t.Errorf("calls %v", r.Calls())
	}
}

// slack is what a test allows beyond the grace period: generous, for
// loaded machines.
const slack = 5 * time.Second

func TestCancelKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	const grace = 500 * time.Millisecond
	tests := []struct {
		name   string
		script string // prints the pids that must die, one per line, then "ready"
		npids  int
		// ignoresTerm: something survives SIGTERM, so the run lasts at least the grace period.
		ignoresTerm bool
	}{
		{
			name:   "a child dies with its parent",
			script: `sleep 100 & echo $!; echo $$; echo ready; wait`,
			npids:  2,
		},
		{
			name:   "a grandchild dies too",
			script: `sh -c 'sleep 100 & echo $!; wait' & echo $!; echo ready; wait`,
			npids:  2,
		},
		{
			name:        "a group ignoring SIGTERM gets SIGKILL",
			script:      `trap '' TERM; sleep 100 & echo $!; echo $$; echo ready; wait; wait; wait`,
			npids:       2,
			ignoresTerm: true,
		},
		{
			name:        "a child ignoring SIGTERM outlives its parent, then gets SIGKILL",
			script:      `sh -c 'trap "" TERM; echo $$; exec sleep 100' & sleep 0.1; echo ready; wait`,
			npids:       1,
			ignoresTerm: true,
		},
		{
			name:   "a child with closed output is found all the same",
			script: `sleep 100 >/dev/null 2>&1 & echo $!; echo ready; wait`,
			npids:  1,
		},
	}
	e := newExecutor(t, shell.Config{GracePeriod: grace})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			r := newRecorder(t)
			done := start(ctx, e, argv("sh", "-c", tt.script), r)
			r.waitUntil(t, "the pids and ready", func(r *recorder) bool {
				out := r.Stream(domain.Stdout)
				return strings.Contains(out, "ready\n") && len(pids(out)) >= tt.npids
			})
			ps := pids(r.Stream(domain.Stdout))
			if len(ps) != tt.npids {
				t.Fatalf("pids %v, want %d", ps, tt.npids)
			}
			canceledAt := time.Now()
			cancel(errStop)
			o := <-done
			took := time.Since(canceledAt)
			if !errors.Is(o.err, errStop) {
				t.Fatalf("Run = %+v, %v; want an error wrapping the cancel cause", o.res, o.err)
			}
			var se *executors.StartError
			if errors.As(o.err, &se) {
				t.Errorf("a canceled task is not a StartError: %v", o.err)
			}
			if took > grace+slack {
				t.Errorf("cancel took %s; grace is %s", took, grace)
			}
			if tt.ignoresTerm && took < grace {
				t.Errorf("cancel took %s, less than the grace period %s, though SIGTERM was ignored", took, grace)
			}
			// Run returns only once the group is dead.
			for _, p := range ps {
				if testproc.Alive(p) {
					t.Errorf("process %d is alive after Run returned", p)
				}
			}
		})
	}
}

func TestCancelFromTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeoutCause(t.Context(), 200*time.Millisecond, errStop)
	defer cancel()
	_, o := run(t, ctx, newExecutor(t, shell.Config{}), argv("sleep", "100"))
	if !errors.Is(o.err, errStop) {
		t.Fatalf("Run error = %v, want one wrapping the timeout cause", o.err)
	}
	if o.elapsed > slack {
		t.Errorf("took %s", o.elapsed)
	}
}

func TestLeftoverProcessesAreStopped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script string
	}{
		{"holding the output open", `sleep 100 & echo $!`},
		{"with output closed", `sleep 100 >/dev/null 2>&1 & echo $!`},
	}
	e := newExecutor(t, shell.Config{GracePeriod: 500 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, o := run(t, t.Context(), e, argv("sh", "-c", tt.script+"; exit 4"))
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			if o.res.ExitCode != 4 || !strings.Contains(o.res.Summary, "left running were stopped") {
				t.Errorf("Result %+v", o.res)
			}
			if o.elapsed > slack {
				t.Errorf("took %s", o.elapsed)
			}
			ps := pids(r.Stream(domain.Stdout))
			if len(ps) != 1 {
				t.Fatalf("pids %v", ps)
			}
			if testproc.Alive(ps[0]) {
				t.Errorf("leftover %d is alive after Run returned", ps[0])
			}
		})
	}
}

func TestLargeOutput(t *testing.T) {
	t.Parallel()
	var want strings.Builder
	for i := 1; i <= 10000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	e := newExecutor(t, shell.Config{})
	for _, tt := range []struct {
		stream domain.OutputStream
		script string
	}{
		{domain.Stdout, "seq 1 10000"},
		{domain.Stderr, "seq 1 10000 >&2"},
	} {
		t.Run(string(tt.stream), func(t *testing.T) {
			t.Parallel()
			r, o := run(t, t.Context(), e, argv("sh", "-c", tt.script))
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			if got := r.Stream(tt.stream); got != want.String() {
				t.Errorf("%s: %d bytes, want %d", tt.stream, len(got), want.Len())
			}
		})
	}
	t.Run("both streams at full speed", func(t *testing.T) {
		t.Parallel()
		r, o := run(t, t.Context(), e, argv("sh", "-c", "seq 1 10000 & seq 1 10000 >&2; wait"))
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		for _, s := range []domain.OutputStream{domain.Stdout, domain.Stderr} {
			if got := r.Stream(s); got != want.String() {
				t.Errorf("%s: %d bytes, want %d", s, len(got), want.Len())
			}
		}
	})
	t.Run("yes until canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		r := newRecorder(t)
		done := start(ctx, e, argv("yes"), r)
		r.waitUntil(t, "a mebibyte of y", func(r *recorder) bool { return len(r.Stream(domain.Stdout)) >= 1<<20 })
		cancel(errStop)
		if o := <-done; !errors.Is(o.err, errStop) {
			t.Fatalf("Run error = %v", o.err)
		}
		// Everything that arrived is whole "y\n" pairs, perhaps a last "y".
		out := r.Stream(domain.Stdout)
		if rest := strings.ReplaceAll(strings.TrimSuffix(out, "y"), "y\n", ""); rest != "" {
			t.Errorf("output of yes (%d bytes) is not y\\n repeated: %q left", len(out), trunc(rest))
		}
	})
}

func TestConcurrentTasks(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, shell.Config{})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			script := "seq 1 2000; printf '::progress 100 done\\n'; seq 1 3 >&2; exit " + strconv.Itoa(i)
			r, o := run(t, t.Context(), e, argv("sh", "-c", script))
			if o.err != nil || o.res.ExitCode != i {
				t.Errorf("task %d: %+v %v", i, o.res, o.err)
				return
			}
			if got := r.Stream(domain.Stdout); !strings.HasSuffix(got, "\n2000\n") || strings.Count(got, "\n") != 2000 {
				t.Errorf("task %d: stdout of %d bytes", i, len(got))
			}
			if got := r.Stream(domain.Stderr); got != "1\n2\n3\n" {
				t.Errorf("task %d: stderr %q", i, got)
			}
		})
	}
	wg.Wait()
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  shell.Config
		want string
	}{
		{"negative grace", shell.Config{GracePeriod: -time.Second}, "GracePeriod"},
		{"relative DefaultDir", shell.Config{DefaultDir: "work"}, "DefaultDir"},
		{"tiny MaxLineBytes", shell.Config{MaxLineBytes: 10}, "MaxLineBytes"},
		{"huge MaxLineBytes", shell.Config{MaxLineBytes: 1 << 30}, "MaxLineBytes"},
		{"negative FlushDelay", shell.Config{FlushDelay: -1}, "FlushDelay"},
		{"bad variable name", shell.Config{EnvAllowList: []string{"PATH", "A=B"}}, `"A=B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := shell.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one naming %s", err, tt.want)
			}
		})
	}
	if _, err := shell.New(shell.Config{}); err != nil {
		t.Errorf("the zero Config: %v", err)
	}
}

func TestMissingDefaultDirIsAStartError(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, shell.Config{DefaultDir: "/nonexistent/axontask"})
	_, o := run(t, t.Context(), e, argv("true"))
	var se *executors.StartError
	if !errors.As(o.err, &se) || !strings.Contains(o.err.Error(), "DefaultDir") {
		t.Fatalf("Run error = %v, want a StartError naming DefaultDir", o.err)
	}
}

// TestNoGoroutineLeaks is not parallel, so that the goroutine count is not
// disturbed by other tests (parallel tests wait until it is done).
func TestNoGoroutineLeaks(t *testing.T) {
	e := newExecutor(t, shell.Config{GracePeriod: 200 * time.Millisecond})
	check := func(t *testing.T, name string, f func()) {
		before := runtime.NumGoroutine()
		f()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("%s: %d goroutines, %d before:\n%s", name, runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	check(t, "exit", func() { run(t, t.Context(), e, argv("sh", "-c", "seq 1 1000; echo x >&2")) })
	check(t, "start error", func() { run(t, t.Context(), e, argv("definitely-not-a-command-axontask")) })
	check(t, "leftovers", func() { run(t, t.Context(), e, argv("sh", "-c", "sleep 100 &")) })
	check(t, "cancel", func() {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		run(t, ctx, e, argv("sh", "-c", "trap '' TERM; printf partial; sleep 100"))
	})
}

func TestSinkGetsItsOwnBuffers(t *testing.T) {
	t.Parallel()
	// The recorder keeps every slice it is given; were one reused by the
	// executor, the concatenation would differ.
	r, o := run(t, t.Context(), newExecutor(t, shell.Config{}), argv("sh", "-c", "for i in $(seq 1 300); do echo line $i; done"))
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	var want bytes.Buffer
	for i := 1; i <= 300; i++ {
		want.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	if got := r.Stream(domain.Stdout); got != want.String() {
		t.Errorf("stdout differs: %d bytes, want %d", len(got), want.Len())
	}
}
