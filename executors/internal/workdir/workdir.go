// Package workdir names and removes tasks' work directories, for the
// shell executor on the host and for the sandbox alike.
package workdir

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Name keeps the characters of a task id that are safe in a file name,
// at most 64 of them.
func Name(taskID string) string {
	id := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, taskID)
	return id[:min(len(id), 64)]
}

// Remove removes dir and everything in it, making its directories
// writable first if a plain RemoveAll fails: a task may leave read-only
// directories behind (Go's module cache is one). It never follows a
// symbolic link.
func Remove(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
