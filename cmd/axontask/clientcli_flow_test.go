package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/client"
)

// `task logs -f -exit-code`, as a real process, follows a shell task while
// it runs (the task waits for the test to let it finish) and exits with
// the task's exit code.
func TestTaskLogsFollowsLiveTask(t *testing.T) {
	t.Parallel()
	// The task waits for a file in a directory dev shares with its sandbox
	// (whose uid must be able to reach it).
	gateDir, err := os.MkdirTemp("", "axontask-gate-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(gateDir) })
	if err := os.Chmod(gateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dev := startDev(t, nil, "-share", "gate="+gateDir)
	c := newClientCLI(t, dev.base, dev.key)
	gate := filepath.Join(gateDir, "open")
	script := `echo line 1; echo ::progress 50 halfway; while [ ! -e /work/gate/open ]; do sleep 0.05; done; echo line 2; echo bad >&2; exit 7`
	id := strings.TrimSpace(c.mustRun("", "task", "start", "-name", "live", "--", "sh", "-c", script).stdout)

	cmd, stdout, stderr := followFirstLine(t, dev, id, "-exit-code")
	// The task is still running: the line came live.
	var st struct {
		State string `json:"state"`
	}
	decodeJSON(t, c.mustRun("", "task", "status", id, "-json"), &st)
	if st.State != "running" {
		t.Fatalf("state %q while the task waits for the gate", st.State)
	}
	interruptedFollower(t, dev, id)
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("exit %v, want code 7; stderr: %s", err, stderr.String())
	}
	if string(rest) != "line 2\n" {
		t.Errorf("rest of stdout %q", rest)
	}
	for _, want := range []string{"axontask: progress 50% halfway\n", "bad\n", "axontask: task " + id + " failed: exited with status 7"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "\x1b[") {
		t.Errorf("colour on a stream that is not a terminal:\n%q", stderr.String())
	}

	// The same log as JSON Lines verifies offline.
	res := c.mustRun("", "task", "logs", id, "-f", "-json")
	if n := strings.Count(res.stdout, "\n"); n < 6 {
		t.Fatalf("%d JSON lines:\n%s", n, res.stdout)
	}
	if out, errOut, code := runCLI(t, res.stdout, "verify"); code != exitOK || !strings.Contains(out, "verified") {
		t.Fatalf("verify of task logs -f -json: exit %d\n%s%s", code, out, errOut)
	}
	// Without -exit-code, a failed task's log is read successfully.
	if res := c.run("", "task", "logs", id, "-f"); res.code != exitOK || res.stdout != "line 1\nline 2\n" {
		t.Errorf("logs -f without -exit-code: exit %d, %q", res.code, res.stdout)
	}

	// A task that times out exits 124; -exit-code without -f on a running
	// task says to wait.
	slow := strings.TrimSpace(c.mustRun("", "task", "start", "-timeout", "1s", "--", "sleep", "30").stdout)
	if res := c.run("", "task", "logs", slow, "-exit-code"); res.code != exitFailed || !strings.Contains(res.stderr, "add -f") {
		t.Errorf("logs -exit-code of a running task: exit %d, %s", res.code, res.stderr)
	}
	if res := c.run("", "task", "logs", slow, "-f", "-exit-code"); res.code != exitTaskTimedOut || !strings.Contains(res.stderr, "timed out after 1s") {
		t.Errorf("logs -f -exit-code of a task that timed out: exit %d, %s", res.code, res.stderr)
	}
}

// Each failure exits with the code scripts rely on, and says what to fix.
func TestClientExitCodes(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	c := newClientCLI(t, dev.base, dev.key)
	readOnly := strings.TrimSpace(c.mustRun("", "keys", "create", "-name", "read only", "-scope", "tasks:read").stdout)
	missing := uuid.NewString()
	tests := []struct {
		name string
		cli  *clientCLI
		args []string
		code int
		want string
	}{
		{"unknown task status", c, []string{"task", "status", missing}, exitNotFound, "no task with this id"},
		{"unknown task logs", c, []string{"task", "logs", missing}, exitNotFound, "no task with this id"},
		{"unknown task logs -f", c, []string{"task", "logs", missing, "-f"}, exitNotFound, "no task with this id"},
		{"unknown task cancel", c, []string{"task", "cancel", missing}, exitNotFound, "no task with this id"},
		{"unknown task verify", c, []string{"task", "verify", missing}, exitNotFound, "no task with this id"},
		{"unknown key revoke", c, []string{"keys", "revoke", missing}, exitNotFound, "no API key with this id"},
		{"no credentials", newClientCLI(t, dev.base, ""), []string{"task", "status", missing}, exitAuth, "AXONTASK_API_KEY"},
		{"wrong key", newClientCLI(t, dev.base, "axt_aaaaaaaaaaaa_"+strings.Repeat("a", 52)), []string{"task", "list"}, exitAuth, "axontask login"},
		{"forbidden", newClientCLI(t, dev.base, readOnly), []string{"task", "start", "--", "true"}, exitAuth, "not allowed"},
		{"unreachable", c, []string{"task", "list", "-url", "http://127.0.0.1:1"}, exitInternal, "cannot reach the AxonTask API at http://127.0.0.1:1"},
		{"bad flag", c, []string{"task", "logs", missing, "-frobnicate"}, exitUsage, "flag provided but not defined"},
		{"missing id", c, []string{"task", "logs"}, exitUsage, "missing argument"},
		{"two ids", c, []string{"task", "status", missing, missing}, exitUsage, "at most 1 argument"},
		{"bad id", c, []string{"task", "cancel", "12"}, exitUsage, "not a task id"},
		{"negative since", c, []string{"task", "logs", missing, "-since", "-1"}, exitUsage, "-since"},
		{"no command", c, []string{"task", "start", "-name", "x"}, exitUsage, "after --"},
		{"args not an object", c, []string{"task", "start", "-adapter", "mock", "-args", "[1]"}, exitUsage, "JSON object"},
		{"args and argv", c, []string{"task", "start", "-args", "{}", "--", "true"}, exitUsage, "not both"},
		{"mock with argv", c, []string{"task", "start", "-adapter", "mock", "--", "true"}, exitUsage, "takes no command"},
		{"exit code without -f", c, []string{"task", "start", "-exit-code", "--", "true"}, exitUsage, "needs -f"},
		{"bad env", c, []string{"task", "start", "-env", "NOEQUALS", "--", "true"}, exitUsage, "K=V"},
		{"timeout past the plan", c, []string{"task", "start", "-timeout", "1000h", "--", "true"}, exitUsage, "timeout_s"},
		{"docker without an image", c, []string{"task", "start", "-adapter", "docker", "--", "true"}, exitUsage, "-image"},
		{"an image for shell", c, []string{"task", "start", "-image", "alpine", "--", "true"}, exitUsage, "-adapter docker"},
		{"docker args without the image", c, []string{"task", "start", "-adapter", "docker", "-args", "{}"}, exitUsage, "args.image"},
		{"unknown adapter", c, []string{"task", "start", "-adapter", "k8s", "-args", "{}"}, exitUsage, "adapter"},
		{"retry flag without -max-attempts", c, []string{"task", "start", "-retry-interval", "1s", "--", "true"}, exitUsage, "needs -max-attempts"},
		{"bad exit codes", c, []string{"task", "start", "-max-attempts", "2", "-non-retryable-exit-codes", "2,x", "--", "true"}, exitUsage, "not an exit status"},
		{"too many attempts", c, []string{"task", "start", "-max-attempts", "101", "--", "true"}, exitUsage, "retry.max_attempts"},
		{"unknown on-interrupt", c, []string{"task", "start", "-on-interrupt", "maybe", "--", "true"}, exitUsage, "on_interrupt"},
		{"unknown state", c, []string{"task", "list", "-state", "sleeping"}, exitUsage, "field state"},
		{"negative limit", c, []string{"task", "list", "-limit", "-1"}, exitUsage, "-limit"},
		{"bad created-after", c, []string{"task", "list", "-created-after", "yesterday"}, exitUsage, "RFC 3339"},
		{"empty creation range", c, []string{"task", "list", "-created-after", "2026-12-01T10:00:00Z", "-created-before", "2026-12-01T10:00:00+01:00"}, exitUsage, "field created_before"},
		{"bad usage period", c, []string{"usage", "-period", "2026-13"}, exitUsage, "field period"},
		{"key without name", c, []string{"keys", "create"}, exitUsage, "-name"},
		{"unknown scope", c, []string{"keys", "create", "-name", "x", "-scope", "root"}, exitUsage, "scope"},
		{"unknown subcommand", c, []string{"task", "frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"no subcommand", c, []string{"keys"}, exitUsage, "no command given"},
		{"bad URL", c, []string{"task", "list", "-url", "ftp://example.com"}, exitUsage, "scheme"},
		{"login without email", c, []string{"login"}, exitUsage, "-email"},
		{"login without password", c, []string{"login", "-email", "dev@localhost"}, exitUsage, "no password"},
		{"wrong password", c, []string{"login", "-email", "dev@localhost"}, exitAuth, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if tc.name == "wrong password" {
				stdin = "wrong password\n"
			}
			res := tc.cli.run(stdin, tc.args...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("%q: exit %d, want %d with %q; stderr:\n%s", tc.args, res.code, tc.code, tc.want, res.stderr)
			}
		})
	}

	// A flaky task with a retry policy, followed: the failed attempt is in
	// the log, and the task succeeds on the second.
	res := c.run("", "task", "start", "-adapter", "mock", "-args", `{"steps":1,"interval_ms":0,"fail_attempts":1}`,
		"-max-attempts", "2", "-retry-interval", "10ms", "-on-interrupt", "fail", "-f", "-exit-code")
	if res.code != exitOK || !strings.Contains(res.stderr, "attempt 1 failed") || !strings.Contains(res.stderr, "queued again for attempt 2, due at") {
		t.Errorf("a retried task: exit %d; stderr:\n%s", res.code, res.stderr)
	}

	// Through main's dispatch and the process's own environment.
	if _, errOut, code := runCLI(t, "", "task", "list", "-frobnicate"); code != exitUsage {
		t.Errorf("runCLI task list -frobnicate: exit %d, %s", code, errOut)
	}
	if out, _, code := runCLI(t, "", "task", "-h"); code != exitOK || !strings.Contains(out, "Usage: axontask task <command>") {
		t.Errorf("task -h: exit %d\n%s", code, out)
	}
	if out, _, code := runCLI(t, "", "help"); code != exitOK || !strings.Contains(out, "5 no credentials") {
		t.Errorf("help does not document the exit codes: exit %d\n%s", code, out)
	}
}

// login stores the session's tokens (mode 0600, never printed); the
// client commands use them without AXONTASK_API_KEY, refresh the access
// token when it expires or is refused (one process at a time, so that
// no refresh token is used twice), and logout ends the session.
func TestLoginRefreshLogout(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	user := newClientCLI(t, dev.base, "")
	password := devPassword(t, dev)
	user.secrets = append(user.secrets, password)

	user.mustRun(password+"\n", "login", "-email", "dev@localhost")
	store := &credentialStore{path: filepath.Join(user.configDir, "axontask", "credentials.json")}
	for path, mode := range map[string]os.FileMode{store.path: 0o600, filepath.Dir(store.path): 0o700 | os.ModeDir} {
		info, err := os.Stat(path)
		if err != nil || info.Mode() != mode {
			t.Fatalf("%s: %v, mode %v; want %v", path, err, info.Mode(), mode)
		}
	}
	stored := func() storedLogin {
		t.Helper()
		f, err := store.load()
		if err != nil {
			t.Fatal(err)
		}
		l, ok := f.Logins[dev.base]
		if !ok || l.AccessToken == "" || l.RefreshToken == "" {
			t.Fatalf("no stored login for %s: %v", dev.base, f.Logins)
		}
		user.secrets = append(user.secrets, l.AccessToken, l.RefreshToken)
		return l
	}
	first := stored()
	user.mustRun("", "task", "list")
	if l := stored(); l.RefreshToken != first.RefreshToken {
		t.Fatal("a fresh access token was refreshed")
	}

	// Expired: five processes at once refresh it once between them.
	setLogin := func(change func(*storedLogin)) {
		t.Helper()
		err := store.update(func(f *credentialsFile) (bool, error) {
			l := f.Logins[dev.base]
			change(&l)
			f.Logins[dev.base] = l
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setLogin(func(l *storedLogin) { l.ExpiresAt = time.Now().Add(-time.Minute) })
	var wg sync.WaitGroup
	results := make([]cliResult, 5)
	for i := range results {
		wg.Go(func() { results[i] = user.run("", "task", "list", "-json") })
	}
	wg.Wait()
	for _, res := range results {
		if res.code != exitOK {
			t.Fatalf("task list with an expired access token: exit %d\n%s", res.code, res.stderr)
		}
	}
	second := stored()
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || !second.ExpiresAt.After(time.Now()) {
		t.Fatal("the expired access token was not refreshed")
	}

	// Refused though not expired (a server whose signing key changed, a
	// clock ahead): refreshed on the 401, and the call made again.
	setLogin(func(l *storedLogin) { l.AccessToken = "eyJ.not.valid" })
	user.mustRun("", "task", "list")
	user.mustRun("", "task", "logs", strings.TrimSpace(newClientCLI(t, dev.base, dev.key).mustRun("", "task", "start", "--", "true").stdout), "-f")
	third := stored()
	if third.RefreshToken == second.RefreshToken {
		t.Fatal("a refused access token was not refreshed")
	}

	// AXONTASK_API_KEY wins over the login.
	keyed := &clientCLI{t: t, env: map[string]string{"AXONTASK_URL": dev.base, "AXONTASK_API_KEY": "axt_aaaaaaaaaaaa_" + strings.Repeat("a", 52)}, configDir: user.configDir}
	if res := keyed.run("", "task", "list"); res.code != exitAuth {
		t.Errorf("a wrong AXONTASK_API_KEY beside a login: exit %d", res.code)
	}

	user.mustRun("", "logout")
	if _, err := os.Stat(store.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials.json after logout: %v", err)
	}
	if res := user.run("", "task", "list"); res.code != exitAuth {
		t.Errorf("task list after logout: exit %d", res.code)
	}
	anon, err := client.New(dev.base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Refresh(t.Context(), third.RefreshToken); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("the refresh token works after logout: %v", err)
	}

	// A session ended elsewhere says to log in again.
	user.mustRun(password+"\n", "login", "-email", "dev@localhost", "-json")
	l := stored()
	if err := anon.Logout(t.Context(), l.RefreshToken); err != nil {
		t.Fatal(err)
	}
	setLogin(func(l *storedLogin) { l.ExpiresAt = time.Now().Add(-time.Minute) })
	if res := user.run("", "task", "list"); res.code != exitAuth || !strings.Contains(res.stderr, "run `axontask login") {
		t.Errorf("task list after the session ended: exit %d, %s", res.code, res.stderr)
	}
	var out struct {
		LoggedOut bool `json:"logged_out"`
	}
	decodeJSON(t, user.mustRun("", "logout", "-json"), &out)
	if !out.LoggedOut {
		t.Error("logout of an ended session did not forget it")
	}
}

// interruptedFollower follows the running task id with a second `task logs
// -f` and interrupts it (Ctrl-C): it exits 130 saying that the task keeps
// running and how to follow it again or cancel it.
func interruptedFollower(t *testing.T, dev *devProc, id string) {
	t.Helper()
	cmd, stdout, stderr := followFirstLine(t, dev, id)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, stdout)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted follower: exit %v, want %d; stderr: %s", err, exitInterrupted, stderr.String())
	}
	for _, want := range []string{"the task keeps running", "axontask task logs " + id + " -f -since ", "axontask task cancel " + id} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("interrupted follower's stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// followFirstLine starts `task logs id -f` with flags as a process of its
// own against dev and reads its first line of output, which must be
// "line 1"; the caller reads the rest of stdout and waits for cmd.
func followFirstLine(t *testing.T, dev *devProc, id string, flags ...string) (cmd *exec.Cmd, stdout io.Reader, stderr *syncBuffer) {
	t.Helper()
	cmd = exec.CommandContext(t.Context(), binary(t), append([]string{"task", "logs", id, "-f"}, flags...)...)
	cmd.Env = append(os.Environ(), "AXONTASK_URL="+dev.base, "AXONTASK_API_KEY="+dev.key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); line != "line 1\n" {
		t.Fatalf("first line %q, %v; stderr: %s", line, err, stderr.String())
	}
	return cmd, r, stderr
}
