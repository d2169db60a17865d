package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/axontask/axontask/domain"
)

// shellArgs checks that a is a *domain.ShellArgs within the adapter's limits,
// so that a caller who skipped validation gets a clear error rather than,
// say, a corrupt environment.
func shellArgs(a any) (*domain.ShellArgs, error) {
	args, ok := a.(*domain.ShellArgs)
	if !ok || args == nil {
		return nil, fmt.Errorf("shell executor got args of type %T; want a non-nil *domain.ShellArgs from domain.ParseArgs", a)
	}
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("invalid shell args: %w", err)
	}
	return args, nil
}

// environ returns the task's environment, sorted: the allow-listed
// variables the worker has, then args.env over them. It is never nil: an
// exec.Cmd with a nil Env would pass the worker's whole environment.
func environ(allow []string, extra map[string]string) []string {
	vars := make(map[string]string, len(allow)+len(extra))
	for _, k := range allow {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	for k, v := range extra {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// checkDir reports why dir cannot be a working directory, if it cannot.
func checkDir(dir, field string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("working directory %q does not exist on the worker; create it or fix %s", dir, field)
	case err != nil:
		return fmt.Errorf("working directory %q cannot be used: %w; fix its permissions or %s", dir, err, field)
	case !fi.IsDir():
		return fmt.Errorf("working directory %q is not a directory; fix %s", dir, field)
	}
	return nil
}
