package main

import (
	"strings"
	"testing"
)

func TestTenantsCommands(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI(t, "", "tenants", "plans")
	if code != exitOK || !strings.Contains(out, "trial") || !strings.Contains(out, "ent") {
		t.Fatalf("tenants plans: %d\n%s", code, out)
	}
	path, _ := seed(t)
	for _, args := range [][]string{
		{"tenants", "set-plan", "-sqlite", path, "no-such-tenant", "pro"},
		{"tenants", "set-plan", "-sqlite", path, "tenant-a", "gold"},
		{"tenants", "set-plan", "-sqlite", path, "tenant-a"},
		{"tenants", "nope"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, errOut)
		}
	}
}
