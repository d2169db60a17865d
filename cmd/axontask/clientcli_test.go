package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testwait"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden from the client commands' output")

// clientCLI runs the client commands in process as one user: with their
// own environment (AXONTASK_URL, AXONTASK_API_KEY, …) and config
// directory, never the test process's.
type clientCLI struct {
	t         *testing.T
	env       map[string]string
	configDir string
	// secrets are what no output may hold.
	secrets []string
}

// newClientCLI returns a user of the API at base with the API key key
// (none when empty).
func newClientCLI(t *testing.T, base, key string) *clientCLI {
	c := &clientCLI{t: t, env: map[string]string{"AXONTASK_URL": base}, configDir: t.TempDir()}
	if key != "" {
		c.env["AXONTASK_API_KEY"] = key
		c.secrets = append(c.secrets, key)
	}
	return c
}

// cliResult is what one command did.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

// run runs the client command args with stdin, as main would: the exit
// code, and errors printed on stderr.
func (c *clientCLI) run(stdin string, args ...string) cliResult {
	c.t.Helper()
	var out, errOut bytes.Buffer
	con := &console{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv:    func(k string) string { return c.env[k] },
		configDir: func() (string, error) { return c.configDir, nil },
		now:       time.Now,
	}
	ctx, cancel := context.WithTimeout(c.t.Context(), 90*time.Second)
	defer cancel()
	code := report(runClientCommand(ctx, args[0], args[1:], con), &errOut)
	for _, s := range c.secrets {
		if s != "" && (strings.Contains(out.String(), s) || strings.Contains(errOut.String(), s)) {
			c.t.Errorf("%q printed a secret:\n%s%s", args, out.String(), errOut.String())
		}
	}
	return cliResult{args: args, stdout: out.String(), stderr: errOut.String(), code: code}
}

// mustRun runs args and fails the test unless it exits 0.
func (c *clientCLI) mustRun(stdin string, args ...string) cliResult {
	c.t.Helper()
	res := c.run(stdin, args...)
	if res.code != exitOK {
		c.t.Fatalf("%q: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
	}
	return res
}

// golden compares results with the files under testdata/golden, after
// replacing what changes from run to run (ids, times, hashes, URLs) with
// placeholders; with -update it rewrites them.
type golden struct {
	t *testing.T
	// exact replacements, made first.
	exact []string // old, new, old, new…
}

// goldenPatterns replace what changes from run to run, in this order.
var goldenPatterns = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<hex>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<time>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Za-z0-9+\-]+`), "<time>"},
	{regexp.MustCompile(`just now|\b\d+[smhd] ago`), "<ago>"},
	{regexp.MustCompile(`\b(\d+ms|\d+\.\ds|\d+m\d\ds|\d+h\d\dm)\b`), "<span>"},
	{regexp.MustCompile(`("position":\s*)\d+`), "${1}<n>"},
	{regexp.MustCompile(`worker:[^"\s]+`), "worker:<worker>"},
	{regexp.MustCompile(`("worker_id":\s*")[^"]+`), "${1}<worker>"},
	// A key's last use is written every 30 s: it may or may not be known.
	{regexp.MustCompile(`("last_used_at":\s*)(null|"<time>")`), "${1}<time or null>"},
	{regexp.MustCompile(`(?m)(never|<ago>)$`), "<last used>"},
}

var (
	// apiKeyPattern matches an API key, whose secret is never in a golden
	// file.
	apiKeyPattern = regexp.MustCompile(`axt_[a-z0-9]+_[a-z0-9]+`)
	// columnGap separates the columns of a table.
	columnGap = regexp.MustCompile(`(\S)  +`)
)

func (g *golden) normalize(s string) string {
	s = apiKeyPattern.ReplaceAllString(s, "<api-key>")
	for i := 0; i+1 < len(g.exact); i += 2 {
		s = strings.ReplaceAll(s, g.exact[i], g.exact[i+1])
	}
	for _, p := range goldenPatterns {
		s = p.re.ReplaceAllString(s, p.with)
	}
	// A table's columns align to values that placeholders replaced: keep
	// two spaces between them.
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if len(columnGap.FindAllStringIndex(line, -1)) >= 3 {
			lines[i] = columnGap.ReplaceAllString(line, "${1}  ")
		}
	}
	return strings.Join(lines, "\n")
}

// shellQuote quotes args as a shell would need them, for the golden files.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		safe := func(r rune) bool {
			return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,", r)
		}
		if a != "" && strings.IndexFunc(a, func(r rune) bool { return !safe(r) }) < 0 {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// check compares res with testdata/golden/name.txt.
func (g *golden) check(name string, res cliResult) {
	g.t.Helper()
	var b strings.Builder
	b.WriteString("$ axontask " + shellQuote(res.args) + "\n")
	b.WriteString("exit " + strconv.Itoa(res.code) + "\n")
	b.WriteString("-- stdout --\n" + res.stdout)
	b.WriteString("-- stderr --\n" + res.stderr)
	got := g.normalize(b.String())
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			g.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		g.t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		g.t.Errorf("%s differs from %s (rerun with -update if the change is meant):\n--- got ---\n%s--- want ---\n%s", name, path, got, want)
	}
}

// keyPrefix returns the public prefix of an API key axt_<prefix>_<secret>.
func keyPrefix(key string) string {
	parts := strings.Split(key, "_")
	if len(parts) != 3 {
		return key
	}
	return parts[1]
}

// decodeJSON decodes a command's JSON output.
func decodeJSON(t *testing.T, res cliResult, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(res.stdout), v); err != nil {
		t.Fatalf("%q: %v\n%s", res.args, err, res.stdout)
	}
}

// waitState waits until task id is in state.
func (c *clientCLI) waitState(id, state string) {
	c.t.Helper()
	testwait.For(c.t, "task "+id+" to be "+state, func() bool {
		var st struct {
			State string `json:"state"`
		}
		decodeJSON(c.t, c.mustRun("", "task", "status", id, "-json"), &st)
		return st.State == state
	})
}

// devPassword returns the password of dev's local user.
func devPassword(t *testing.T, dev *devProc) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dev.dataDir, "dev-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds devCredentials
	if err := json.Unmarshal(b, &creds); err != nil || creds.Password == "" {
		t.Fatalf("dev-credentials.json: %v", err)
	}
	return creds.Password
}
