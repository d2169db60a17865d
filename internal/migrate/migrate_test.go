package migrate

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	schema "github.com/axontask/axontask/sql"
)

func TestListOrdersByVersion(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"0010_later.sql": {Data: []byte("SELECT 10")},
		"0002_next.sql":  {Data: []byte("SELECT 2")},
		"0001_first.sql": {Data: []byte("SELECT 1")},
		"README.md":      {Data: []byte("not a migration")},
	}
	got, err := List(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, m := range got {
		versions = append(versions, m.Version)
	}
	if len(got) != 3 || versions[0] != 1 || versions[1] != 2 || versions[2] != 10 || got[2].SQL != "SELECT 10" {
		t.Fatalf("List = %+v", got)
	}
}

func TestListRejectsBadNames(t *testing.T) {
	t.Parallel()
	for name, fsys := range map[string]fstest.MapFS{
		"no version":     {"first.sql": {}},
		"zero version":   {"0000_zero.sql": {}},
		"shared version": {"0001_a.sql": {}, "001_b.sql": {}},
		"no underscore":  {"0001.sql": {}},
	} {
		if _, err := List(fsys); err == nil {
			t.Errorf("%s: List accepted it", name)
		} else if !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: unclear error %q", name, err)
		}
	}
}

// The embedded migrations of every engine parse and start at version 1.
func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	for engine, fsys := range map[string]fs.FS{"postgres": schema.PostgresMigrations, "sqlite": schema.SQLiteMigrations} {
		ms, err := List(fsys)
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if len(ms) == 0 || ms[0].Version != 1 {
			t.Fatalf("%s: migrations %+v do not start at version 1", engine, ms)
		}
	}
}
