package main

import (
	"strings"
	"testing"
)

// The invitation commands, as real processes against dev: the owner
// invites an address, its user (registered, signed in) lists and accepts
// the invitation, and is then a member; a revoked one cannot be accepted.
func TestInvitationCommands(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	owner := newClientCLI(t, dev.base, "")
	password := devPassword(t, dev)
	owner.secrets = append(owner.secrets, password)
	owner.mustRun(password+"\n", "login", "-email", "dev@localhost")

	id := strings.TrimSpace(owner.mustRun("", "invitations", "send", "-email", "grace@example.com", "-role", "member").stdout)
	if res := owner.mustRun("", "invitations", "sent"); !strings.Contains(res.stdout, id) || !strings.Contains(res.stdout, "grace@example.com") {
		t.Fatalf("invitations sent:\n%s", res.stdout)
	}
	other := strings.TrimSpace(owner.mustRun("", "invitations", "send", "-email", "hal@example.com").stdout)
	owner.mustRun("", "invitations", "revoke", other)

	register(t, dev.base, "grace@example.com")
	grace := newClientCLI(t, dev.base, "")
	grace.secrets = append(grace.secrets, testPasswords...)
	grace.mustRun(testPasswords[0]+"\n", "login", "-email", "grace@example.com")
	if res := grace.mustRun("", "invitations", "list"); !strings.Contains(res.stdout, id) {
		t.Fatalf("grace's invitations:\n%s", res.stdout)
	}
	if res := grace.mustRun("", "invitations", "accept", id); !strings.Contains(res.stdout, "joined tenant") {
		t.Fatalf("accept:\n%s", res.stdout)
	}
	if res := grace.run("", "invitations", "accept", other); res.code != exitNotFound {
		t.Fatalf("accepting a revoked invitation: exit %d, %s", res.code, res.stderr)
	}
	if res := owner.run("", "invitations", "send"); res.code != exitUsage || !strings.Contains(res.stderr, "-email") {
		t.Fatalf("send without -email: exit %d, %s", res.code, res.stderr)
	}
	if res := grace.mustRun("", "invitations", "list"); !strings.Contains(res.stdout, "no invitations") {
		t.Fatalf("grace's invitations after accepting:\n%s", res.stdout)
	}
}
