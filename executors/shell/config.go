package shell

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors/sandbox"
)

// Defaults for Config.
const (
	DefaultGracePeriod  = 5 * time.Second
	DefaultMaxLineBytes = 64 << 10
	DefaultFlushDelay   = 100 * time.Millisecond
)

// Bounds that validate enforces.
const (
	minMaxLineBytes = 64       // room for any "::progress" line worth parsing
	maxMaxLineBytes = 16 << 20 // a stdout buffer larger than this is a mistake
	maxFlushDelay   = 10 * time.Second
)

// DefaultEnvAllowList names the worker's environment variables a task sees
// when Config.EnvAllowList is nil.
func DefaultEnvAllowList() []string {
	return []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"}
}

// Config configures an Executor. The zero value is usable: New fills in
// the defaults.
type Config struct {
	// EnvAllowList names the variables of the worker's environment that a
	// task inherits, when the worker has them set; every other variable of
	// the worker (credentials, in particular) stays hidden. A task's
	// args.env is added on top and wins over these. nil means
	// DefaultEnvAllowList; an empty non-nil list passes nothing through.
	EnvAllowList []string
	// GracePeriod is how long a process group has between SIGTERM and
	// SIGKILL when a task is canceled, or when its main process exits and
	// leaves processes behind (default 5 s).
	GracePeriod time.Duration
	// Sandbox, when set, runs every task in a sandbox of its own (see
	// package sandbox), bounded by the task's Limits. nil runs tasks on
	// the worker's host as the worker's user: for a developer's own
	// machine only.
	Sandbox *sandbox.Sandbox
	// DefaultDir is the work directory of tasks run on the host (Sandbox
	// nil), which args.cwd is relative to. It must be an absolute path to
	// an existing directory, shared by those tasks and never cleaned.
	// Empty (the default) gives each task a fresh directory under
	// os.TempDir(), removed with everything in it once the task's
	// processes are dead. Sandboxed tasks always get a fresh one.
	DefaultDir string
	// MaxLineBytes bounds the stdout line buffer of the progress protocol
	// (default 64 KiB). A line of MaxLineBytes bytes or more (not counting
	// its newline) is forwarded in pieces as it arrives, and is never read
	// as a "::progress" line.
	MaxLineBytes int
	// FlushDelay is how long an incomplete stdout line waits for the rest
	// of its line before it is forwarded anyway (default 100 ms), so that a
	// process printing without newlines still streams. A partial line that
	// may still become a "::progress" line waits for its newline instead.
	// It also bounds how long the last bytes of a UTF-8 sequence cut by a
	// read are awaited before a chunk goes out without them (stdout and
	// stderr).
	FlushDelay time.Duration
	// Logger receives what the executor cannot report to a task: processes
	// that outlived SIGKILL, a working directory it could not remove
	// (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default, and
// EnvAllowList copied, so that the caller's slice can change later.
func (c Config) withDefaults() Config {
	if c.EnvAllowList == nil {
		c.EnvAllowList = DefaultEnvAllowList()
	} else {
		c.EnvAllowList = append([]string{}, c.EnvAllowList...)
	}
	if c.GracePeriod == 0 {
		c.GracePeriod = DefaultGracePeriod
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.FlushDelay == 0 {
		c.FlushDelay = DefaultFlushDelay
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate reports settings that cannot work, naming the field.
func (c Config) validate() error {
	var errs []error
	for _, name := range c.EnvAllowList {
		if !domain.ValidEnvName(name) {
			errs = append(errs, fmt.Errorf("EnvAllowList: %q is not a variable name; names match [A-Za-z_][A-Za-z0-9_]*", name))
		}
	}
	if c.GracePeriod < 0 {
		errs = append(errs, fmt.Errorf("GracePeriod is %s; it must be positive (0 means the default, %s)", c.GracePeriod, DefaultGracePeriod))
	}
	if c.DefaultDir != "" && (!filepath.IsAbs(c.DefaultDir) || strings.ContainsRune(c.DefaultDir, 0)) {
		errs = append(errs, fmt.Errorf("DefaultDir %q must be an absolute path (or empty, for a fresh temporary directory per task)", c.DefaultDir))
	}
	if c.MaxLineBytes < minMaxLineBytes || c.MaxLineBytes > maxMaxLineBytes {
		errs = append(errs, fmt.Errorf("MaxLineBytes is %d; it must be between %d and %d", c.MaxLineBytes, minMaxLineBytes, maxMaxLineBytes))
	}
	if c.FlushDelay < 0 || c.FlushDelay > maxFlushDelay {
		errs = append(errs, fmt.Errorf("FlushDelay is %s; it must be between 0 (the default, %s) and %s", c.FlushDelay, DefaultFlushDelay, maxFlushDelay))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shell executor config: %w", err)
	}
	return nil
}
