package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/secretscan"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/teststores"
)

const password = testidentity.Password

// newIdentity returns an Identity on s whose clock reads clock().
func newIdentity(t *testing.T, s teststores.Store, clock func() time.Time) *testidentity.Identity {
	t.Helper()
	id, err := testidentity.New(s, secretscan.New(t, password).Logger(), clock)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// principal authenticates a bearer credential or fails the test.
func principal(t *testing.T, id *testidentity.Identity, bearer string) commands.Principal {
	t.Helper()
	p, err := id.Authenticate(t.Context(), bearer)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// createKey creates an API key with cmd and returns it and its info.
func createKey(ctx context.Context, id *testidentity.Identity, cmd commands.CreateAPIKey) (string, commands.APIKeyInfo, error) {
	res, err := id.CreateAPIKey.Handle(ctx, cmd)
	return res.Key, res.Info, err
}

func TestRegisterAndLogin(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := newIdentity(t, b.store, time.Now)
		ctx := t.Context()
		tok, err := id.Register.Handle(ctx, commands.Register{Email: "Ada@Example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		p := principal(t, id, tok.AccessToken)
		if p.TenantID != tok.TenantID || p.UserID != tok.UserID || p.Role != domain.RoleOwner {
			t.Fatalf("principal %+v does not match tokens %+v", p, tok)
		}
		if _, err := id.Register.Handle(ctx, commands.Register{Email: "ada@example.COM", Password: password, TenantName: "Other"}); !errors.Is(err, commands.ErrEmailTaken) {
			t.Fatalf("second registration: %v, want ErrEmailTaken", err)
		}
		var inputErr *auth.InputError
		if _, err := id.Register.Handle(ctx, commands.Register{Email: "bob@example.com", Password: "short", TenantName: "B"}); !errors.As(err, &inputErr) || inputErr.Field != "password" {
			t.Fatalf("short password: %v", err)
		}
		var verr *domain.ValidationError
		if _, err := id.Register.Handle(ctx, commands.Register{Email: "bob@example.com", Password: password, TenantName: " "}); !errors.As(err, &verr) || verr.Field != "tenant_name" {
			t.Fatalf("blank tenant name: %v", err)
		}
		for _, c := range []commands.Login{
			{Email: "ada@example.com", Password: "wrong password!"},
			{Email: "nobody@example.com", Password: password},
			{Email: "ada@example.com", Password: password, TenantID: "0190d2a4-6c1e-7b3a-9f00-000000000000"},
		} {
			if _, err := id.Login.Handle(ctx, c); !errors.Is(err, commands.ErrBadCredentials) {
				t.Errorf("login %s into %q: %v, want ErrBadCredentials", c.Email, c.TenantID, err)
			}
		}
		again, err := id.Login.Handle(ctx, commands.Login{Email: " ADA@example.com", Password: password})
		if err != nil || again.TenantID != tok.TenantID || again.Role != domain.RoleOwner {
			t.Fatalf("login = %+v, %v", again, err)
		}
	})
}

func TestRefreshRotatesAndReplayRevokesTheFamily(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := newIdentity(t, b.store, time.Now)
		ctx := t.Context()
		first, err := id.Register.Handle(ctx, commands.Register{Email: "ada@example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := id.Refresh.Handle(ctx, commands.Refresh{RefreshToken: first.RefreshToken})
		if err != nil || second.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh = %v; rotated: %v", err, second.RefreshToken != first.RefreshToken)
		}
		principal(t, id, second.AccessToken)
		// The first token comes back: it leaked. Both it and the current
		// one stop working.
		if _, err := id.Refresh.Handle(ctx, commands.Refresh{RefreshToken: first.RefreshToken}); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("replay: %v, want ErrUnauthenticated", err)
		}
		if _, err := id.Refresh.Handle(ctx, commands.Refresh{RefreshToken: second.RefreshToken}); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("refresh after a replay: %v, want the family revoked", err)
		}
		// Logout ends a session; a second logout is a no-op.
		other, err := id.Login.Handle(ctx, commands.Login{Email: "ada@example.com", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := id.Logout.Handle(ctx, commands.Logout{RefreshToken: other.RefreshToken}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := id.Refresh.Handle(ctx, commands.Refresh{RefreshToken: other.RefreshToken}); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("refresh after logout: %v", err)
		}
		if _, err := id.Refresh.Handle(ctx, commands.Refresh{RefreshToken: "axr_nope"}); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("malformed token: %v", err)
		}
	})
}

// Two refreshes racing with one token: one wins, and the loser, a replay,
// revokes the session.
func TestConcurrentRefreshIsAReplay(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := newIdentity(t, b.store, time.Now)
		tok, err := id.Register.Handle(t.Context(), commands.Register{Email: "ada@example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		next := make([]commands.Tokens, n)
		for i := range n {
			wg.Go(func() {
				next[i], errs[i] = id.Refresh.Handle(t.Context(), commands.Refresh{RefreshToken: tok.RefreshToken})
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
				// However the race went, the token was used more than
				// once: the session is revoked, and with it what won.
				if _, err := id.Refresh.Handle(t.Context(), commands.Refresh{RefreshToken: next[i].RefreshToken}); !errors.Is(err, commands.ErrUnauthenticated) {
					t.Fatalf("the winner's refresh token after a replay: %v", err)
				}
			case !errors.Is(err, commands.ErrUnauthenticated):
				t.Fatalf("refresh: %v", err)
			}
		}
		if ok > 1 {
			t.Fatalf("%d of %d concurrent refreshes with one token succeeded", ok, n)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		clock := time.Now
		id := newIdentity(t, b.store, clock)
		ctx := t.Context()
		ownerTok, err := id.Register.Handle(ctx, commands.Register{Email: "ada@example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		owner := principal(t, id, ownerTok.AccessToken)
		for _, who := range []struct{ email, role string }{{"mel@example.com", "member"}, {"vic@example.com", "viewer"}} {
			if _, err := id.Register.Handle(ctx, commands.Register{Email: who.email, Password: password, TenantName: who.email}); err != nil {
				t.Fatal(err)
			}
			if _, err := testidentity.Join(ctx, id, owner, who.email, who.role); err != nil {
				t.Fatal(err)
			}
		}
		login := func(email string) commands.Principal {
			tok, err := id.Login.Handle(ctx, commands.Login{Email: email, Password: password, TenantID: owner.TenantID})
			if err != nil {
				t.Fatal(err)
			}
			return principal(t, id, tok.AccessToken)
		}
		member, viewer := login("mel@example.com"), login("vic@example.com")
		if member.Role != domain.RoleMember || viewer.Role != domain.RoleViewer {
			t.Fatalf("roles %s, %s", member.Role, viewer.Role)
		}

		if _, _, err := createKey(ctx, id, commands.CreateAPIKey{By: viewer, Name: "v", Scopes: []string{"tasks:read"}}); !errors.Is(err, commands.ErrForbidden) {
			t.Fatalf("viewer creates a key: %v, want ErrForbidden", err)
		}
		if _, _, err := createKey(ctx, id, commands.CreateAPIKey{By: member, Name: "m", Scopes: []string{"admin"}}); !errors.Is(err, commands.ErrForbidden) {
			t.Fatalf("member grants admin: %v, want ErrForbidden", err)
		}
		memberKey, memberInfo, err := createKey(ctx, id, commands.CreateAPIKey{By: member, Name: "ci", Scopes: []string{"tasks:write", "tasks:read"}})
		if err != nil {
			t.Fatal(err)
		}
		ownerKey, _, err := createKey(ctx, id, commands.CreateAPIKey{By: owner, Name: "ops", Scopes: []string{"admin"}})
		if err != nil {
			t.Fatal(err)
		}
		kp := principal(t, id, memberKey)
		if kp.TenantID != owner.TenantID || kp.KeyID != memberInfo.ID || !kp.Can(domain.ActionWriteTasks) || kp.Can(domain.ActionManageOwnKeys) {
			t.Fatalf("key principal %+v", kp)
		}
		// Members list their own keys, owners all; uses show once flushed.
		id.Usage.Flush(ctx)
		mine, err := id.ListAPIKeys.Handle(ctx, commands.ListAPIKeys{By: member})
		if err != nil || len(mine) != 1 || mine[0].ID != memberInfo.ID || mine[0].LastUsedAt.IsZero() {
			t.Fatalf("member's list = %+v, %v", mine, err)
		}
		all, err := id.ListAPIKeys.Handle(ctx, commands.ListAPIKeys{By: owner})
		if err != nil || len(all) != 2 {
			t.Fatalf("owner's list = %+v, %v", all, err)
		}
		// Another tenant cannot revoke the key, nor learn it exists.
		strangerTok, err := id.Register.Handle(ctx, commands.Register{Email: "eve@example.com", Password: password, TenantName: "Evil"})
		if err != nil {
			t.Fatal(err)
		}
		stranger := principal(t, id, strangerTok.AccessToken)
		if _, err := id.RevokeAPIKey.Handle(ctx, commands.RevokeAPIKey{By: stranger, KeyID: memberInfo.ID}); !errors.Is(err, commands.ErrAPIKeyNotFound) {
			t.Fatalf("another tenant revokes: %v, want ErrAPIKeyNotFound", err)
		}
		if _, err := id.RevokeAPIKey.Handle(ctx, commands.RevokeAPIKey{By: principal(t, id, ownerKey), KeyID: memberInfo.ID}); err != nil {
			t.Fatalf("admin key revokes: %v", err)
		}
		if _, err := id.RevokeAPIKey.Handle(ctx, commands.RevokeAPIKey{By: owner, KeyID: memberInfo.ID}); err != nil {
			t.Fatalf("second revocation: %v, want a no-op", err)
		}
		if _, err := id.Authenticate(ctx, memberKey); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("revoked key authenticates: %v", err)
		}
		// A forged secret with a real prefix is unknown.
		forged := memberKey[:len(memberKey)-1] + "a"
		if forged == memberKey {
			forged = memberKey[:len(memberKey)-1] + "b"
		}
		if _, err := id.Authenticate(ctx, forged); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("forged key: %v", err)
		}
	})
}

// TestKeyChecksFollowOtherProcesses: a key that passed in one process is
// decided again there as soon as another process changes its stream or
// its tenant's: a lower role narrows it, a removal ends it, at once; a
// wrong secret never passes after a right one.
func TestKeyChecksFollowOtherProcesses(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		here, there := newIdentity(t, b.store, time.Now), newIdentity(t, b.store, time.Now)
		ownerTok, err := there.Register.Handle(ctx, commands.Register{Email: "ada@example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		owner := principal(t, there, ownerTok.AccessToken)
		if _, err := there.Register.Handle(ctx, commands.Register{Email: "mel@example.com", Password: password, TenantName: "Mel"}); err != nil {
			t.Fatal(err)
		}
		mel, err := testidentity.Join(ctx, there, owner, "mel@example.com", "admin")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := there.Login.Handle(ctx, commands.Login{Email: "mel@example.com", Password: password, TenantID: owner.TenantID})
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := createKey(ctx, there, commands.CreateAPIKey{By: principal(t, there, tok.AccessToken), Name: "ci", Scopes: []string{"admin"}})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // decided, then remembered
			if p := principal(t, here, key); p.Role != domain.RoleAdmin || !p.Can(domain.ActionManageMembers) {
				t.Fatalf("the key acts as %s", p.Role)
			}
		}
		forged := key[:len(key)-1] + "a"
		if forged == key {
			forged = key[:len(key)-1] + "b"
		}
		if _, err := here.Authenticate(ctx, forged); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("a wrong secret on a remembered key: %v", err)
		}
		if _, err := there.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: owner, UserID: mel.UserID, Role: "viewer"}); err != nil {
			t.Fatal(err)
		}
		if p := principal(t, here, key); p.Role != domain.RoleViewer || p.Can(domain.ActionManageMembers) {
			t.Fatalf("after the role was lowered elsewhere, the key acts as %s", p.Role)
		}
		if _, err := there.RemoveMember.Handle(ctx, commands.RemoveMember{By: owner, UserID: mel.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := here.Authenticate(ctx, key); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("the key of a member removed elsewhere: %v", err)
		}
	})
}

func TestMembers(t *testing.T) {
	t.Parallel()
	forEachStore(t, eventstore.Options{}, func(t *testing.T, b *testBundle) {
		id := newIdentity(t, b.store, time.Now)
		ctx := t.Context()
		tok, err := id.Register.Handle(ctx, commands.Register{Email: "ada@example.com", Password: password, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		owner := principal(t, id, tok.AccessToken)
		for _, email := range []string{"bob@example.com", "cy@example.com"} {
			if _, err := id.Register.Handle(ctx, commands.Register{Email: email, Password: password, TenantName: email}); err != nil {
				t.Fatal(err)
			}
		}
		bobM, err := testidentity.Join(ctx, id, owner, "bob@example.com", "admin")
		if err != nil {
			t.Fatal(err)
		}
		cyM, err := testidentity.Join(ctx, id, owner, "cy@example.com", "member")
		if err != nil {
			t.Fatal(err)
		}
		bob, cy := bobM.UserID, cyM.UserID
		adminTok, err := id.Login.Handle(ctx, commands.Login{Email: "bob@example.com", Password: password, TenantID: owner.TenantID})
		if err != nil {
			t.Fatal(err)
		}
		admin := principal(t, id, adminTok.AccessToken)
		// A key acts for its creator as they are now: bob's admin key is
		// narrowed when bob becomes a member, and stops when bob is removed.
		bobKey, _, err := createKey(ctx, id, commands.CreateAPIKey{By: admin, Name: "bob", Scopes: []string{"admin"}})
		if err != nil {
			t.Fatal(err)
		}
		if p := principal(t, id, bobKey); !p.Can(domain.ActionManageMembers) {
			t.Fatal("an admin's admin key may not manage members")
		}
		defer func() {
			if _, err := id.Authenticate(ctx, bobKey); !errors.Is(err, commands.ErrUnauthenticated) {
				t.Fatalf("the key of a removed member authenticates: %v", err)
			}
			// Adding bob again does not bring his old key back.
			if _, err := testidentity.Join(ctx, id, owner, "bob@example.com", "member"); err != nil {
				t.Fatal(err)
			}
			if _, err := id.Authenticate(ctx, bobKey); !errors.Is(err, commands.ErrUnauthenticated) {
				t.Fatalf("the key of a member removed and added again authenticates: %v", err)
			}
		}()
		if _, err := id.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: owner, UserID: bob, Role: "member"}); err != nil {
			t.Fatal(err)
		}
		if p := principal(t, id, bobKey); p.Can(domain.ActionManageMembers) || !p.Can(domain.ActionWriteTasks) {
			t.Fatalf("the admin key of a user now a member: manage members %v, write tasks %v", p.Can(domain.ActionManageMembers), p.Can(domain.ActionWriteTasks))
		}
		if _, err := id.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: owner, UserID: bob, Role: "admin"}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: admin, UserID: owner.UserID, Role: "member"}); !errors.Is(err, commands.ErrForbidden) {
			t.Fatalf("an admin demotes the owner: %v, want ErrForbidden", err)
		}
		if _, err := id.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: admin, UserID: cy, Role: "owner"}); !errors.Is(err, commands.ErrForbidden) {
			t.Fatalf("an admin makes an owner: %v, want ErrForbidden", err)
		}
		if _, err := id.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: admin, UserID: cy, Role: "viewer"}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.ChangeMemberRole.Handle(ctx, commands.ChangeMemberRole{By: owner, UserID: owner.UserID, Role: "admin"}); !errors.Is(err, domain.ErrLastOwner) {
			t.Fatalf("the last owner steps down: %v, want ErrLastOwner", err)
		}
		if _, err := id.RemoveMember.Handle(ctx, commands.RemoveMember{By: admin, UserID: "nobody"}); !errors.Is(err, domain.ErrNotMember) {
			t.Fatalf("removing a non-member: %v", err)
		}
		if _, err := id.RemoveMember.Handle(ctx, commands.RemoveMember{By: owner, UserID: bob}); err != nil {
			t.Fatal(err)
		}
		members, err := id.ListMembers.Handle(ctx, commands.ListMembers{By: owner})
		if err != nil || len(members) != 2 {
			t.Fatalf("members = %+v, %v", members, err)
		}
		for _, m := range members {
			if m.UserID == cy && (m.Role != domain.RoleViewer || m.Email != "cy@example.com") {
				t.Fatalf("cy = %+v", m)
			}
		}
		// The removed admin's refresh no longer works.
		if _, err := id.Refresh.Handle(ctx, commands.Refresh{RefreshToken: adminTok.RefreshToken}); !errors.Is(err, commands.ErrUnauthenticated) {
			t.Fatalf("a removed member refreshes: %v", err)
		}
	})
}
