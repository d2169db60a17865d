package commands_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// An invitation makes a member only when its address's user accepts it in
// time; declined, revoked and expired ones do not; another user, another
// tenant and an API key cannot answer or revoke it.
func TestInvitations(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		id := newIdentity(t, b.store, clock)
		ctx := t.Context()
		signUp := func(email string) commands.Principal {
			tok, err := id.Register.Handle(ctx, commands.Register{Email: email, Password: password, TenantName: email})
			if err != nil {
				t.Fatal(err)
			}
			return principal(t, id, tok.AccessToken)
		}
		owner, other := signUp("ada@example.com"), signUp("eve@example.com")
		invite := func(email string) commands.InvitationInfo {
			inv, err := id.InviteMember.Handle(ctx, commands.InviteMember{By: owner, Email: email, Role: "member"})
			if err != nil {
				t.Fatal(err)
			}
			return inv
		}
		// Invited before registering: the invitation waits for the address.
		grace := invite("Grace@Example.com")
		if again := invite("grace@example.com"); again.ID != grace.ID {
			t.Fatalf("a second invite of a pending address: %s, want %s", again.ID, grace.ID)
		}
		g := signUp("grace@example.com")
		mine, err := id.ListMyInvitations.Handle(ctx, commands.ListMyInvitations{By: g})
		if err != nil || len(mine) != 1 || mine[0].ID != grace.ID || mine[0].TenantID != owner.TenantID || mine[0].TenantName != "ada@example.com" {
			t.Fatalf("grace's invitations: %+v, %v", mine, err)
		}
		// Nobody else answers it: not another user, not the owner's key.
		if _, err := id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: other, InvitationID: grace.ID}); !errors.Is(err, domain.ErrInvitationNotFound) {
			t.Fatalf("another user accepts: %v", err)
		}
		key := owner
		key.KeyID = "k"
		if _, err := id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: key, InvitationID: grace.ID}); !errors.Is(err, commands.ErrForbidden) {
			t.Fatalf("an API key accepts: %v", err)
		}
		if _, err := id.RevokeInvitation.Handle(ctx, commands.RevokeInvitation{By: other, InvitationID: grace.ID}); !errors.Is(err, domain.ErrInvitationNotFound) {
			t.Fatalf("another tenant revokes: %v", err)
		}
		m, err := id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: g, InvitationID: grace.ID})
		if err != nil || m.TenantID != owner.TenantID || m.Role != domain.RoleMember {
			t.Fatalf("accept: %+v, %v", m, err)
		}
		if _, err := id.Login.Handle(ctx, commands.Login{Email: "grace@example.com", Password: password, TenantID: owner.TenantID}); err != nil {
			t.Fatalf("grace signs in to the tenant she joined: %v", err)
		}

		isMember := func(email string) bool {
			members, err := id.ListMembers.Handle(ctx, commands.ListMembers{By: owner})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				if m.Email == email {
					return true
				}
			}
			return false
		}
		// Declined, revoked, expired: no member.
		h, i, j := invite("hal@example.com"), invite("ivy@example.com"), invite("joe@example.com")
		hal, ivy, joe := signUp("hal@example.com"), signUp("ivy@example.com"), signUp("joe@example.com")
		if _, err := id.DeclineInvitation.Handle(ctx, commands.DeclineInvitation{By: hal, InvitationID: h.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.RevokeInvitation.Handle(ctx, commands.RevokeInvitation{By: owner, InvitationID: i.ID}); err != nil {
			t.Fatal(err)
		}
		if pending, err := id.ListInvitations.Handle(ctx, commands.ListInvitations{By: owner}); err != nil || len(pending) != 1 || pending[0].ID != j.ID {
			t.Fatalf("pending after a decline and a revoke: %+v, %v; want joe's", pending, err)
		}
		mu.Lock()
		now = now.Add(commands.DefaultInvitationTTL)
		mu.Unlock()
		for who, answer := range map[string]func() error{
			"hal accepts what he declined": func() error {
				_, err := id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: hal, InvitationID: h.ID})
				return err
			},
			"ivy accepts a revoked invitation": func() error {
				_, err := id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: ivy, InvitationID: i.ID})
				return err
			},
			"joe accepts once it expired": func() error {
				_, err := id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: joe, InvitationID: j.ID})
				return err
			},
		} {
			if err := answer(); !errors.Is(err, domain.ErrInvitationNotFound) {
				t.Errorf("%s: %v, want ErrInvitationNotFound", who, err)
			}
		}
		for _, email := range []string{"hal@example.com", "ivy@example.com", "joe@example.com"} {
			if isMember(email) {
				t.Errorf("%s became a member", email)
			}
		}
		if mine, err := id.ListMyInvitations.Handle(ctx, commands.ListMyInvitations{By: joe}); err != nil || len(mine) != 0 {
			t.Fatalf("joe's expired invitation is listed: %+v, %v", mine, err)
		}
		if !isMember("grace@example.com") {
			t.Fatal("grace is not a member")
		}
	})
}
