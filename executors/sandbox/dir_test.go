//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The worker, as root, trusts what is in its sandbox directory: one that
// another user could have prepared is refused before anything is made in
// it.
func TestNewRefusesADirectoryOthersControl(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	base, err := os.MkdirTemp("", "axontask-dir-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o711); err != nil {
		t.Fatal(err)
	}
	writable := filepath.Join(base, "writable")
	others := filepath.Join(base, "others")
	link := filepath.Join(base, "link")
	for _, d := range []string{writable, others} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(writable, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(others, 60002, 60002); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(others, link); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{writable: "can be written by other users", others: "belongs to another user", link: "not a directory"} {
		_, err := New(Config{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New in %s = %v, want an error saying it %s", dir, err, want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("New made %d entries in %s, which it refused", len(entries), dir)
		}
	}
}

// The work directory's measure counts what is inside it only, and stops
// counting past its bound.
func TestTreeSize(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "big"), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small"), make([]byte, 10<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{outside, filepath.Join(outside, "big"), "/proc"} {
		if err := os.Symlink(link, filepath.Join(dir, filepath.Base(link)+"-link")); err != nil {
			t.Fatal(err)
		}
	}
	bytes, entries := treeSize(dir, 100)
	if bytes < 10<<10 || bytes >= 1<<20 || entries != 5 {
		t.Errorf("treeSize = %d bytes in %d entries, want the 10 KiB file's blocks and 5 entries (., the file, 3 links)", bytes, entries)
	}
	for i := range 20 {
		if err := os.Mkdir(filepath.Join(dir, fmt.Sprint("d", i)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, entries := treeSize(dir, 10); entries != 11 {
		t.Errorf("treeSize with a bound of 10 counted %d entries, want it to stop at 11", entries)
	}
}

func TestUnescapeMountPath(t *testing.T) {
	t.Parallel()
	if got := unescapeMountPath(`/srv/sand\040box/w1/t\134x/fs`); got != `/srv/sand box/w1/t\x/fs` {
		t.Errorf("unescapeMountPath = %q", got)
	}
}
