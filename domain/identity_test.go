package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// applier is an identity aggregate.
type applier interface{ Apply(domain.Event) error }

// givenPayloads applies events with the given payloads, in order, to agg.
func givenPayloads(t *testing.T, agg applier, payloads ...domain.Payload) {
	t.Helper()
	for i, p := range payloads {
		if err := agg.Apply(payloadEvent(t, int64(i+1), p)); err != nil {
			t.Fatalf("given event %d (%T): %v", i+1, p, err)
		}
	}
}

func payloadEvent(t *testing.T, seq int64, p domain.Payload) domain.Event {
	t.Helper()
	b, err := domain.MarshalPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return domain.Event{EventID: uuid.New(), StreamID: "s", Seq: seq, TenantID: "tenant-1", Type: p.EventType(),
		Payload: b, OccurredAt: t0.Add(time.Duration(seq) * time.Second)}
}

func TestTenantKeepsAnOwner(t *testing.T) {
	t.Parallel()
	var tenant domain.Tenant
	givenPayloads(t, &tenant,
		&domain.TenantCreated{Name: "Acme", OwnerID: "ada"},
		&domain.TenantMemberAdded{Role: domain.RoleViewer, UserID: "bob"})
	if r, ok := tenant.Role("ada"); !ok || r != domain.RoleOwner {
		t.Fatalf("creator's role = %q, %v; want owner", r, ok)
	}
	if _, err := tenant.DecideRemoveMember("ada"); !errors.Is(err, domain.ErrLastOwner) {
		t.Fatalf("removing the last owner: %v, want ErrLastOwner", err)
	}
	if _, err := tenant.DecideChangeRole("ada", domain.RoleAdmin); !errors.Is(err, domain.ErrLastOwner) {
		t.Fatalf("demoting the last owner: %v, want ErrLastOwner", err)
	}
	if _, _, err := tenant.DecideInvite("inv", "bob@example.com", "bob", domain.RoleAdmin, "ada", t0, time.Hour); !errors.Is(err, domain.ErrAlreadyMember) {
		t.Fatalf("inviting a member: %v", err)
	}
	if _, err := tenant.DecideRemoveMember("carol"); !errors.Is(err, domain.ErrNotMember) {
		t.Fatalf("removing a non-member: %v", err)
	}
	if e, err := tenant.DecideChangeRole("bob", domain.RoleViewer); e != nil || err != nil {
		t.Fatalf("a change to the same role = (%v, %v), want nothing", e, err)
	}
	promote, err := tenant.DecideChangeRole("bob", domain.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	if err := tenant.Apply(payloadEvent(t, 3, promote[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.DecideRemoveMember("ada"); err != nil {
		t.Fatalf("with two owners one may go: %v", err)
	}
	if _, _, err := tenant.DecideInvite("inv", "carol@example.com", "carol", "root", "ada", t0, time.Hour); err == nil {
		t.Fatal("an unknown role was accepted")
	}
}

func TestSessionRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	exp := domain.FormatTime(t0.Add(time.Hour))
	var s domain.Session
	givenPayloads(t, &s,
		&domain.SessionStarted{ExpiresAt: exp, TokenHash: "aa", UserID: "ada"},
		&domain.SessionRefreshed{TokenHash: "bb"})
	now := t0.Add(time.Minute)
	for _, tc := range []struct {
		hash string
		want error
	}{
		{"bb", nil},
		{"aa", domain.ErrRefreshTokenReused},
		{"cc", domain.ErrRefreshTokenUnknown},
	} {
		if err := s.CheckRefresh(tc.hash, now); !errors.Is(err, tc.want) {
			t.Errorf("CheckRefresh(%s) = %v, want %v", tc.hash, err, tc.want)
		}
	}
	if err := s.CheckRefresh("bb", t0.Add(time.Hour)); !errors.Is(err, domain.ErrSessionEnded) {
		t.Errorf("at expiry: %v, want ErrSessionEnded", err)
	}
	if err := s.Apply(payloadEvent(t, 3, &domain.SessionRevoked{Reason: "logout"})); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckRefresh("bb", now); !errors.Is(err, domain.ErrSessionEnded) {
		t.Errorf("after revocation: %v, want ErrSessionEnded", err)
	}
	if err := s.Apply(payloadEvent(t, 4, &domain.SessionRefreshed{TokenHash: "dd"})); err == nil {
		t.Error("an event after session.revoked was applied")
	}
}

func TestAPIKeyRevocationIsFinal(t *testing.T) {
	t.Parallel()
	var k domain.APIKey
	givenPayloads(t, &k,
		&domain.APIKeyCreated{CreatedBy: "ada", Name: "ci", Prefix: "abcdefgh2345", Scopes: []string{"tasks:write", "tasks:read"}, SecretHash: "ff"},
		&domain.APIKeyRevoked{RevokedBy: "ada"})
	if !k.Revoked() || k.TenantID() != "tenant-1" || !k.Scopes().Has(domain.ScopeTasksRead) {
		t.Fatalf("key = revoked %v, tenant %q, scopes %v", k.Revoked(), k.TenantID(), k.Scopes())
	}
	if err := k.Apply(payloadEvent(t, 3, &domain.APIKeyRevoked{RevokedBy: "ada"})); err == nil {
		t.Fatal("a second revocation was applied")
	}
	var bad domain.APIKey
	err := bad.Apply(payloadEvent(t, 1, &domain.APIKeyCreated{Scopes: []string{"root"}}))
	if err == nil {
		t.Fatal("a key with an unknown scope was applied")
	}
}

func TestIdentityApplyRejectsGapsAndPrunedPayloads(t *testing.T) {
	t.Parallel()
	var u domain.User
	if err := u.Apply(payloadEvent(t, 2, domain.Samples()[domain.UserRegisteredType])); err == nil {
		t.Fatal("seq 2 applied to an empty user")
	}
	e := payloadEvent(t, 1, domain.Samples()[domain.UserRegisteredType])
	e.Payload = nil
	if err := u.Apply(e); err == nil {
		t.Fatal("a pruned user.registered was applied")
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	good := map[string]string{" Ada@Example.COM ": "ada@example.com", "a.b+c@sub.example.org": "a.b+c@sub.example.org"}
	for in, want := range good {
		if got, err := domain.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = (%q, %v), want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ada", "Ada <ada@example.com>", "a@b@c", "ada@", "@example.com", "ada\n@example.com", "ada @example.com", string(make([]byte, 300))} {
		var ve *domain.ValidationError
		if _, err := domain.NormalizeEmail(in); !errors.As(err, &ve) || ve.Field != "email" {
			t.Errorf("NormalizeEmail(%q) error = %v, want a ValidationError for email", in, err)
		}
	}
}

func TestTenantDecidePlan(t *testing.T) {
	t.Parallel()
	var tenant domain.Tenant
	givenPayloads(t, &tenant, &domain.TenantCreated{Name: "Acme", OwnerID: "ada"})
	got, err := tenant.DecidePlan(domain.PlanPro)
	if err != nil || len(got) != 1 || *got[0].(*domain.TenantPlanChanged) != (domain.TenantPlanChanged{Plan: domain.PlanPro}) {
		t.Fatalf("DecidePlan(pro) = %v, %v", got, err)
	}
	if err := tenant.Apply(payloadEvent(t, 2, got[0])); err != nil {
		t.Fatal(err)
	}
	if got, err := tenant.DecidePlan(domain.PlanPro); got != nil || err != nil {
		t.Fatalf("the plan it is on: %v, %v; want nothing", got, err)
	}
	if _, err := tenant.DecidePlan("gold"); err == nil {
		t.Fatal("an unknown plan was accepted")
	}
}
