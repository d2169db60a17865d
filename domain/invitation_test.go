package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

// invitingTenant is a tenant owned by owner-1 with one invitation of
// grace@example.com as member, made at t0+2s, valid a week.
func invitingTenant(t *testing.T) (*domain.Tenant, domain.Invitation) {
	t.Helper()
	var tenant domain.Tenant
	if err := tenant.Apply(payloadEvent(t, 1, &domain.TenantCreated{Name: "Acme", OwnerID: "owner-1"})); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(2 * time.Second) // payloadEvent's time of seq 2
	inv, events, err := tenant.DecideInvite("inv-1", "grace@example.com", "user-grace", domain.RoleMember, "owner-1", now, 7*24*time.Hour)
	if err != nil || len(events) != 1 {
		t.Fatalf("invite: %v, %v", events, err)
	}
	apply := func(p domain.Payload) {
		if err := tenant.Apply(payloadEvent(t, tenant.Seq()+1, p)); err != nil {
			t.Fatal(err)
		}
	}
	apply(events[0])
	return &tenant, inv
}

func TestTenantInvitations(t *testing.T) {
	t.Parallel()
	tenant, inv := invitingTenant(t)
	week := inv.ExpiresAt
	if got := tenant.Invitations("grace@example.com", t0); len(got) != 1 || got[0] != inv {
		t.Fatalf("pending %+v, want %+v", got, inv)
	}
	// Inviting again while one is pending answers it, with no event.
	again, events, err := tenant.DecideInvite("inv-2", "grace@example.com", "user-grace", domain.RoleAdmin, "owner-1", t0, time.Hour)
	if err != nil || events != nil || again != inv {
		t.Fatalf("a second invite: %+v %v %v; want the first, nothing new", again, events, err)
	}
	// A member is not invited.
	if _, _, err := tenant.DecideInvite("inv-3", "o@example.com", "owner-1", domain.RoleMember, "owner-1", t0, time.Hour); !errors.Is(err, domain.ErrAlreadyMember) {
		t.Fatalf("inviting a member: %v", err)
	}
	// Only the invited address accepts, and only before it expires.
	if _, _, err := tenant.DecideAcceptInvitation("inv-1", "user-eve", "eve@example.com", t0); !errors.Is(err, domain.ErrInvitationNotFound) {
		t.Fatalf("accepted by another address: %v", err)
	}
	if _, _, err := tenant.DecideAcceptInvitation("inv-1", "user-grace", "grace@example.com", week); !errors.Is(err, domain.ErrInvitationNotFound) {
		t.Fatalf("accepted once expired: %v", err)
	}
	if _, err := tenant.DecideDeclineInvitation("inv-1", "user-grace", "grace@example.com", week); !errors.Is(err, domain.ErrInvitationNotFound) {
		t.Fatalf("declined once expired: %v", err)
	}
	_, events, err = tenant.DecideAcceptInvitation("inv-1", "user-grace", "grace@example.com", t0.Add(time.Hour))
	if err != nil || len(events) != 2 || events[1].(*domain.TenantMemberAdded).Role != domain.RoleMember {
		t.Fatalf("accept: %s, %v; want accepted, then member_added", describe(events), err)
	}
	for _, p := range events {
		if err := tenant.Apply(payloadEvent(t, tenant.Seq()+1, p)); err != nil {
			t.Fatal(err)
		}
	}
	if role, ok := tenant.Role("user-grace"); !ok || role != domain.RoleMember {
		t.Fatalf("after accepting: role %q %v", role, ok)
	}
	if _, _, err := tenant.DecideAcceptInvitation("inv-1", "user-grace", "grace@example.com", t0.Add(time.Hour)); !errors.Is(err, domain.ErrInvitationNotFound) {
		t.Fatalf("accepted twice: %v", err)
	}
}

func TestTenantInvitationDeclinedOrRevoked(t *testing.T) {
	t.Parallel()
	for name, decide := range map[string]func(*domain.Tenant) ([]domain.Payload, error){
		"declined": func(tn *domain.Tenant) ([]domain.Payload, error) {
			return tn.DecideDeclineInvitation("inv-1", "user-grace", "grace@example.com", t0)
		},
		"revoked": func(tn *domain.Tenant) ([]domain.Payload, error) {
			return tn.DecideRevokeInvitation("inv-1", "owner-1", t0)
		},
	} {
		tenant, _ := invitingTenant(t)
		events, err := decide(tenant)
		if err != nil || len(events) != 1 {
			t.Fatalf("%s: %s, %v", name, describe(events), err)
		}
		if err := tenant.Apply(payloadEvent(t, tenant.Seq()+1, events[0])); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tenant.DecideAcceptInvitation("inv-1", "user-grace", "grace@example.com", t0); !errors.Is(err, domain.ErrInvitationNotFound) {
			t.Errorf("%s, then accepted: %v", name, err)
		}
		if _, ok := tenant.Role("user-grace"); ok {
			t.Errorf("%s: the address became a member", name)
		}
	}
}

func TestInbox(t *testing.T) {
	t.Parallel()
	var inbox domain.Inbox
	for i, p := range [][2]string{{"inv-1", "tenant-a"}, {"inv-2", "tenant-b"}, {"inv-3", "tenant-a"}} {
		events := inbox.DecideReceive(p[0], p[1])
		if len(events) != 1 {
			t.Fatalf("receive %v: %v", p, events)
		}
		if err := inbox.Apply(payloadEvent(t, int64(i+1), events[0])); err != nil {
			t.Fatal(err)
		}
	}
	if got := inbox.DecideReceive("inv-2", "tenant-b"); got != nil {
		t.Fatalf("received twice: %v", got)
	}
	if got := inbox.Tenants(10); len(got) != 2 || got[0] != "tenant-a" || got[1] != "tenant-b" {
		t.Fatalf("tenants %v, want the most recent first", got)
	}
	if tenant, ok := inbox.TenantOf("inv-2"); !ok || tenant != "tenant-b" {
		t.Fatalf("TenantOf(inv-2) = %q %v", tenant, ok)
	}
}
