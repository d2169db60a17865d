package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/ratelimit"
)

// ratelimit2 allows two requests a minute.
var ratelimit2 = ratelimit.Limit{Rate: 2, Burst: 2, Period: time.Minute}

// checkPrintsNoSecret fails if printing or logging v shows a secret.
func checkPrintsNoSecret(t *testing.T, v any, secrets ...string) {
	t.Helper()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("value", "v", v)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("value", "v", v)
	out := fmt.Sprintf("%v %+v %s ", v, v, v) + logs.String()
	for _, secret := range secrets {
		if secret == "" || strings.Contains(out, secret) {
			t.Fatalf("printing %T shows a secret: %s", v, out)
		}
	}
}

// Register, sign in, refresh, sign out.
func TestSessions(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		c := b.client(t, "")
		reg, err := c.Register(ctx, api.RegisterRequest{Email: "Ada@example.com", Password: testPassword, TenantName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		if reg.AccessToken == "" || reg.RefreshToken == "" || reg.TokenType != "Bearer" || reg.Lifetime() <= 0 || reg.Lifetime() > time.Minute ||
			reg.UserID == "" || reg.TenantID == "" || reg.Role != domain.RoleOwner {
			t.Fatalf("registered %+v", reg)
		}
		checkPrintsNoSecret(t, reg, reg.AccessToken, reg.RefreshToken)
		_, err = c.Register(ctx, api.RegisterRequest{Email: "ada@example.com", Password: testPassword, TenantName: "Other"})
		if !errors.Is(err, client.ErrConflict) || apiError(t, err, 409).Field != "email" {
			t.Fatalf("registering a taken address: %v", err)
		}
		_, err = c.Register(ctx, api.RegisterRequest{Email: "bob@example.com", Password: "short", TenantName: "Bob"})
		if !errors.Is(err, client.ErrInvalidInput) || apiError(t, err, 400).Field != "password" {
			t.Fatalf("registering with a short password: %v", err)
		}

		login, err := c.Login(ctx, api.LoginRequest{Email: "ada@example.com", Password: testPassword})
		if err != nil || login.TenantID != reg.TenantID || login.UserID != reg.UserID {
			t.Fatalf("login: %+v, %v", login, err)
		}
		if _, err := c.Login(ctx, api.LoginRequest{Email: "ada@example.com", Password: "wrong password"}); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("login with a wrong password: %v", err)
		}
		if _, err := c.Login(ctx, api.LoginRequest{Email: "ada@example.com", Password: testPassword, TenantID: b.owners[tenantB].TenantID}); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("login to a tenant of others: %v", err)
		}

		// The access token works as a credential.
		ada, err := client.New(b.url, client.WithToken(login.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ada.ListTasks(ctx, client.ListTasksOptions{}); err != nil {
			t.Fatal(err)
		}

		next, err := c.Refresh(ctx, login.RefreshToken)
		if err != nil || next.RefreshToken == login.RefreshToken || next.AccessToken == "" {
			t.Fatalf("refresh: %+v, %v", next, err)
		}
		// A refresh token works once; presenting it again revokes the session.
		if _, err := c.Refresh(ctx, login.RefreshToken); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("a second refresh with one token: %v", err)
		}
		if _, err := c.Refresh(ctx, next.RefreshToken); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("refresh in a revoked session: %v", err)
		}

		if err := c.Logout(ctx, reg.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Refresh(ctx, reg.RefreshToken); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("refresh after logout: %v", err)
		}
		if err := c.Logout(ctx, "axr_nope"); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("logout with a malformed token: %v", err)
		}
	})
}

// API keys: created with scopes, listed, used, revoked.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		owner, err := client.New(b.url, client.WithToken(b.owners[tenantA].AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		key, err := owner.CreateAPIKey(ctx, "reader", []domain.Scope{domain.ScopeTasksRead})
		if err != nil {
			t.Fatal(err)
		}
		if key.Key == "" || key.ID == "" || key.Name != "reader" || key.Prefix == "" || !slices.Equal(key.Scopes, []domain.Scope{domain.ScopeTasksRead}) ||
			key.CreatedBy != b.owners[tenantA].UserID || key.CreatedAt.IsZero() || !key.LastUsedAt.IsZero() {
			t.Fatalf("created %+v", key)
		}
		checkPrintsNoSecret(t, key, key.Key)
		keys, err := owner.ListAPIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(keys, func(k api.Key) bool { return k.ID == key.ID }); i < 0 || keys[i].Prefix != key.Prefix {
			t.Fatalf("the list %+v lacks key %s", keys, key.ID)
		}

		reader, err := client.New(b.url, client.WithToken(key.Key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reader.ListTasks(ctx, client.ListTasksOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = reader.StartTask(ctx, client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock})
		if !errors.Is(err, client.ErrForbidden) {
			t.Fatalf("a read-only key started a task: %v", err)
		}
		checkStatus(t, err, 403)
		if _, err := owner.CreateAPIKey(ctx, "", []domain.Scope{domain.ScopeTasksRead}); !errors.Is(err, client.ErrInvalidInput) {
			t.Fatalf("a key without a name: %v", err)
		}
		if _, err := owner.CreateAPIKey(ctx, "k", []domain.Scope{"root"}); !errors.Is(err, client.ErrInvalidInput) {
			t.Fatalf("a key with an unknown scope: %v", err)
		}

		other, err := client.New(b.url, client.WithToken(b.owners[tenantB].AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		if err := other.RevokeAPIKey(ctx, key.ID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("revoking another tenant's key: %v", err)
		}
		if err := owner.RevokeAPIKey(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		if err := owner.RevokeAPIKey(ctx, key.ID); err != nil {
			t.Fatalf("revoking again: %v", err)
		}
		if _, err := reader.ListTasks(ctx, client.ListTasksOptions{}); !errors.Is(err, client.ErrUnauthenticated) {
			t.Fatalf("a revoked key: %v", err)
		}
	})
}

// Members: added, listed, their role changed, signed in to the tenant,
// removed.
func TestMembers(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		anonymous := b.client(t, "")
		bob, err := anonymous.Register(ctx, api.RegisterRequest{Email: "bob@example.com", Password: testPassword, TenantName: "Bob's"})
		if err != nil {
			t.Fatal(err)
		}
		owner, err := client.New(b.url, client.WithToken(b.owners[tenantA].AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		tenantID := b.owners[tenantA].TenantID

		// Bob is invited, finds the invitation signed in as himself, and
		// accepts it.
		inv, err := owner.InviteMember(ctx, "bob@example.com", domain.RoleMember)
		if err != nil || inv.Email != "bob@example.com" || inv.TenantID != tenantID || inv.Role != domain.RoleMember || inv.InvitationID == "" {
			t.Fatalf("invite: %+v, %v", inv, err)
		}
		if pending, err := owner.TenantInvitations(ctx); err != nil || len(pending) != 1 || pending[0].InvitationID != inv.InvitationID {
			t.Fatalf("the tenant's invitations: %+v, %v", pending, err)
		}
		bobAlone, err := client.New(b.url, client.WithToken(bob.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		mine, err := bobAlone.MyInvitations(ctx)
		if err != nil || len(mine) != 1 || mine[0].InvitationID != inv.InvitationID || mine[0].TenantName == "" {
			t.Fatalf("bob's invitations: %+v, %v", mine, err)
		}
		m, err := bobAlone.AcceptInvitation(ctx, inv.InvitationID)
		if err != nil || m != (api.Membership{UserID: bob.UserID, TenantID: tenantID, Role: domain.RoleMember}) {
			t.Fatalf("accept: %+v, %v", m, err)
		}
		if _, err := bobAlone.AcceptInvitation(ctx, inv.InvitationID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("accepting twice: %v", err)
		}
		if _, err := owner.InviteMember(ctx, "bob@example.com", domain.RoleMember); !errors.Is(err, client.ErrConflict) {
			t.Fatalf("inviting a member: %v", err)
		}
		// An address nobody registered is invited all the same; the owner
		// revokes it.
		nobody, err := owner.InviteMember(ctx, "nobody@example.com", domain.RoleMember)
		if err != nil || nobody.Email != "nobody@example.com" {
			t.Fatalf("inviting an unknown address: %+v, %v", nobody, err)
		}
		if err := owner.RevokeInvitation(ctx, nobody.InvitationID); err != nil {
			t.Fatal(err)
		}
		if err := owner.RevokeInvitation(ctx, nobody.InvitationID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := owner.InviteMember(ctx, "carol@example.com", "king"); apiError(t, err, 400).Field != "role" {
			t.Fatalf("inviting with an unknown role: %v", err)
		}
		if _, err := owner.MyInvitations(ctx); err != nil {
			t.Fatalf("the owner's own invitations: %v", err)
		}
		members, err := owner.ListMembers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(members, api.Member{UserID: bob.UserID, Email: "bob@example.com", Role: domain.RoleMember}) || len(members) != 2 {
			t.Fatalf("members %+v", members)
		}

		// Bob signs in to tenant A, as a member, who may not manage members.
		inA, err := anonymous.Login(ctx, api.LoginRequest{Email: "bob@example.com", Password: testPassword, TenantID: tenantID})
		if err != nil || inA.TenantID != tenantID || inA.Role != domain.RoleMember {
			t.Fatalf("bob's login to tenant A: %+v, %v", inA, err)
		}
		bobInA, err := client.New(b.url, client.WithToken(inA.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bobInA.InviteMember(ctx, "carol@example.com", domain.RoleAdmin); !errors.Is(err, client.ErrForbidden) {
			t.Fatalf("a member adding members: %v", err)
		}
		if _, err := bobInA.CreateAPIKey(ctx, "k", []domain.Scope{domain.ScopeAdmin}); !errors.Is(err, client.ErrForbidden) {
			t.Fatalf("a member making an admin key: %v", err)
		}

		m, err = owner.ChangeMemberRole(ctx, bob.UserID, domain.RoleAdmin)
		if err != nil || m.Role != domain.RoleAdmin || m.UserID != bob.UserID {
			t.Fatalf("change role: %+v, %v", m, err)
		}
		if _, err := owner.ChangeMemberRole(ctx, b.owners[tenantA].UserID, domain.RoleMember); !errors.Is(err, client.ErrConflict) {
			t.Fatalf("demoting the last owner: %v", err)
		}
		if _, err := owner.ChangeMemberRole(ctx, b.owners[tenantB].UserID, domain.RoleMember); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("changing a stranger's role: %v", err)
		}
		if err := owner.RemoveMember(ctx, bob.UserID); err != nil {
			t.Fatal(err)
		}
		if err := owner.RemoveMember(ctx, bob.UserID); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("removing a removed member: %v", err)
		}
		if _, err := owner.ChangeMemberRole(ctx, "", domain.RoleMember); err == nil {
			t.Fatal("an empty user id was sent")
		}
	})
}
