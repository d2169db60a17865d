package main

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
)

// invitationCommands are the subcommands of "axontask invitations".
var invitationCommands = []clientCommand{
	{"send", "-email E [-role R] [flags]", "invite an email address into your tenant; it joins when its user accepts (no email is sent)", runInvitationsSend},
	{"sent", "[flags]", "list your tenant's pending invitations", runInvitationsSent},
	{"revoke", "ID [flags]", "withdraw a pending invitation of your tenant", runInvitationsRevoke},
	{"list", "[flags]", "list the invitations pending for you (signed in with axontask login)", runInvitationsList},
	{"accept", "ID [flags]", "join the tenant that invited you; then axontask login -tenant ID", runInvitationsAccept},
	{"decline", "ID [flags]", "turn an invitation down", runInvitationsDecline},
}

func runInvitationsSend(ctx context.Context, cl *commandLine) error {
	email := cl.fs.String("email", "", "the address to invite")
	role := cl.fs.String("role", string(domain.RoleMember), "the role it joins with: viewer, member, admin or owner")
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	if *email == "" {
		return usageError("give the address to invite with -email")
	}
	inv, err := connectCallAPI(ctx, cl, "invitations send", func(c *client.Client) (api.Invitation, error) {
		return c.InviteMember(ctx, *email, domain.Role(*role))
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, inv)
	}
	fmt.Fprintln(cl.con.stdout, inv.InvitationID)
	fmt.Fprintf(cl.con.stderr, "axontask: invited %s as %s until %s; no email is sent: they see it with axontask invitations list once signed in\n",
		inv.Email, inv.Role, domain.FormatTime(inv.ExpiresAt.Time))
	return nil
}

func runInvitationsSent(ctx context.Context, cl *commandLine) error {
	return listInvitations(ctx, cl, "invitations sent", (*client.Client).TenantInvitations,
		"no pending invitations; invite someone with: axontask invitations send -email E")
}

func runInvitationsList(ctx context.Context, cl *commandLine) error {
	return listInvitations(ctx, cl, "invitations list", (*client.Client).MyInvitations, "no invitations pending for you")
}

// listInvitations prints the invitations list returns, or none when empty.
func listInvitations(ctx context.Context, cl *commandLine, what string, list func(*client.Client, context.Context) ([]api.Invitation, error), none string) error {
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	invs, err := connectCallAPI(ctx, cl, what, func(c *client.Client) ([]api.Invitation, error) { return list(c, ctx) })
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, api.InvitationList{Invitations: invs})
	}
	if len(invs) == 0 {
		fmt.Fprintln(cl.con.stdout, none)
		return nil
	}
	s := style{cl.con.colour(cl.con.stdoutTerminal)}
	tab := table{header: []string{"ID", "TENANT", "EMAIL", "ROLE", "EXPIRES"}}
	for _, inv := range invs {
		tenant := inv.TenantID
		if inv.TenantName != "" {
			tenant = truncate(inv.TenantName, 30) + " (" + inv.TenantID + ")"
		}
		tab.rows = append(tab.rows, []cell{{text: inv.InvitationID}, {text: tenant}, {text: inv.Email}, {text: string(inv.Role)}, {text: domain.FormatTime(inv.ExpiresAt.Time)}})
	}
	tab.write(cl.con.stdout, s)
	return nil
}

func runInvitationsAccept(ctx context.Context, cl *commandLine) error {
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	m, err := connectCallAPI(ctx, cl, "invitations accept "+pos[0], func(c *client.Client) (api.Membership, error) {
		return c.AcceptInvitation(ctx, pos[0])
	})
	if err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, m)
	}
	fmt.Fprintf(cl.con.stdout, "joined tenant %s as %s; act in it with: axontask login -tenant %s\n", m.TenantID, m.Role, m.TenantID)
	return nil
}

func runInvitationsDecline(ctx context.Context, cl *commandLine) error {
	return invitationDone(ctx, cl, "declined", (*client.Client).DeclineInvitation)
}

func runInvitationsRevoke(ctx context.Context, cl *commandLine) error {
	return invitationDone(ctx, cl, "revoked", (*client.Client).RevokeInvitation)
}

// invitationDone runs do on the invitation the one argument names and
// says it is done.
func invitationDone(ctx context.Context, cl *commandLine, done string, do func(*client.Client, context.Context, string) error) error {
	pos, err := cl.parse(1, 1)
	if err != nil {
		return err
	}
	if _, err := connectCallAPI(ctx, cl, cl.fs.Name()+" "+pos[0], func(c *client.Client) (struct{}, error) {
		return struct{}{}, do(c, ctx, pos[0])
	}); err != nil {
		return err
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, map[string]any{"invitation_id": pos[0], done: true})
	}
	fmt.Fprintf(cl.con.stdout, "%s invitation %s\n", done, pos[0])
	return nil
}
