// Package command finds and starts the program of a task's argv, with
// errors that tell a user what to fix. The shell executor uses it on the
// worker's host, the sandbox's init inside the sandbox.
package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lookupEnv returns the value of variable k in env.
func lookupEnv(env []string, k string) (string, bool) {
	for _, kv := range env {
		if name, v, _ := strings.Cut(kv, "="); name == k {
			return v, true
		}
	}
	return "", false
}

// LookPath finds the executable that name (argv[0]) runs. A name with a
// slash is a path, relative to dir; any other name is searched in the
// task's PATH (from env, so a PATH in args.env counts), skipping relative
// entries such as "." so that a task's own directory never shadows a
// system command.
func LookPath(name, dir string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if err := checkExecutable(path); err != nil {
			return "", fmt.Errorf("command %q %w", name, err)
		}
		return path, nil
	}
	pathEnv, ok := lookupEnv(env, "PATH")
	if !ok {
		return "", fmt.Errorf("command %q cannot be found: the task has no PATH; add PATH to the executor's EnvAllowList or to args.env, or give the command's absolute path", name)
	}
	var notExec string
	for _, d := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(d) {
			continue
		}
		path := filepath.Join(d, name)
		err := checkExecutable(path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && notExec == "" {
			notExec = fmt.Sprintf("%s %v", path, err)
		}
	}
	if notExec != "" {
		return "", fmt.Errorf("command %q not found in PATH (%s) as an executable file; %s", name, pathEnv, notExec)
	}
	return "", fmt.Errorf("command %q not found in PATH (%s); check its spelling, install it on the worker, or give its absolute path", name, pathEnv)
}

// errNotFound says what a missing path means to the user; it wraps
// fs.ErrNotExist.
type errNotFound struct{ path string }

func (e errNotFound) Error() string {
	return fmt.Sprintf("not found: %s does not exist; check the path (relative paths start at the working directory)", e.path)
}

func (e errNotFound) Unwrap() error { return fs.ErrNotExist }

// checkExecutable reports why path is not a file that can be executed.
func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return errNotFound{path}
	case err != nil:
		return fmt.Errorf("cannot be used: %w", err)
	case fi.IsDir():
		return fmt.Errorf("is a directory (%s), not an executable", path)
	case fi.Mode()&0o111 == 0:
		return fmt.Errorf("is not executable (%s has mode %s); make it executable (chmod +x) or run it through its interpreter, like [\"sh\", %q]", path, fi.Mode(), path)
	}
	return nil
}

// StartError explains why starting the resolved executable path failed.
func StartError(name, path, dir string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOEXEC):
		return fmt.Errorf("command %q (%s) is not a program this machine can run; if it is a script, add a #! line or run it through its interpreter, like [\"sh\", %q]", name, path, name)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("command %q (%s) could not be run: the interpreter of its #! line or its loader does not exist on the worker, or its working directory %s was removed", name, path, dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("command %q (%s) could not be run: permission denied; make it executable for the worker's user", name, path)
	case errors.Is(err, syscall.E2BIG):
		return fmt.Errorf("command %q could not be run: its arguments and environment are too large for the operating system; pass large data in a file instead", name)
	}
	return fmt.Errorf("start command %q (%s): %w", name, path, err)
}
