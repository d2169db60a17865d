package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/eventstore"
)

var oauthT0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// oauthGrant stores a client and a grant of it for user with the code
// "code-"+id, valid for a minute.
func oauthGrant(t *testing.T, s OAuthStore, id, user string) eventstore.OAuthGrant {
	t.Helper()
	c := eventstore.OAuthClient{ID: "client-" + id, Name: "Client " + id, RedirectURIs: []string{"http://127.0.0.1:9/cb", "https://app.example/cb"}, CreatedAt: oauthT0}
	if err := s.OAuthClientCreate(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.OAuthClientGet(t.Context(), c.ID)
	if err != nil || got.Name != c.Name || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !got.CreatedAt.Equal(oauthT0) {
		t.Fatalf("OAuthClientGet = %+v, %v; want %+v", got, err, c)
	}
	g := eventstore.OAuthGrant{ID: id, TenantID: "t1", UserID: user, ClientID: c.ID, Scope: "tasks:read tasks:write", Resource: "http://127.0.0.1:8080/mcp",
		RedirectURI: c.RedirectURIs[0], CodeChallenge: "challenge", CreatedAt: oauthT0}
	if err := s.OAuthGrantCreate(t.Context(), g, []byte("code-"+id), oauthT0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return g
}

// testOAuthCodeAndRefresh: a code redeems once into a grant, its refresh
// token rotates, the rotated-away token revokes the family while an
// expired or made-up one revokes nothing, and none of it is events.
func testOAuthCodeAndRefresh(t *testing.T, newStore Opener[OAuthStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	if _, err := s.OAuthClientGet(ctx, "missing"); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("OAuthClientGet(missing) = %v, want ErrOAuthNotFound", err)
	}
	want := oauthGrant(t, s, "g1", "u1")
	later := oauthT0.Add(30 * time.Second)
	if _, err := s.OAuthCodeRedeem(ctx, []byte("code-g1"), []byte("r1"), later.Add(time.Hour), oauthT0.Add(2*time.Minute)); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("redeem of an expired code = %v, want ErrOAuthNotFound", err)
	}
	got, err := s.OAuthCodeRedeem(ctx, []byte("code-g1"), []byte("r1"), later.Add(time.Hour), later)
	if err != nil || got != want {
		t.Fatalf("OAuthCodeRedeem = %+v, %v; want %+v", got, err, want)
	}
	if got, err = s.OAuthRefreshRotate(ctx, "g1", []byte("r1"), []byte("r2"), later.Add(time.Hour), later); err != nil || got != want {
		t.Fatalf("OAuthRefreshRotate(r1) = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g1", []byte("r2"), []byte("r3"), later.Add(3*time.Hour), later.Add(2*time.Hour)); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("rotate of an expired token = %v, want ErrOAuthNotFound", err)
	}
	if list, err := s.OAuthGrantList(ctx, "u1", later.Add(2*time.Hour)); err != nil || len(list) != 0 {
		t.Fatalf("OAuthGrantList(u1) once g1's token expired = %+v, %v; want none", list, err)
	}
	if revoked, err := s.OAuthGrantRevoke(ctx, "g1", "", later.Add(2*time.Hour)); err != nil || !revoked {
		t.Fatalf("OAuthGrantRevoke(g1) after its token expired = %v, %v; want the grant still in force, revoked now", revoked, err)
	}
	g2 := oauthGrant(t, s, "g2", "u1")
	if _, err := s.OAuthCodeRedeem(ctx, []byte("code-g2"), []byte("s1"), later.Add(time.Hour), later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g2", []byte("s1"), []byte("s2"), later.Add(time.Hour), later); err != nil {
		t.Fatal(err)
	}
	// A token the grant never had, made up around its id (which is no
	// secret), is unknown: it revokes nothing.
	if _, err := s.OAuthRefreshRotate(ctx, "g2", []byte("made up"), []byte("s9"), later.Add(time.Hour), later); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("rotate of a made-up token = %v, want ErrOAuthNotFound", err)
	}
	// So is a token rotated away once it has expired.
	if _, err := s.OAuthRefreshRotate(ctx, "g2", []byte("s1"), []byte("s9"), later.Add(3*time.Hour), later.Add(2*time.Hour)); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("rotate of a token rotated away and expired = %v, want ErrOAuthNotFound", err)
	}
	list, err := s.OAuthGrantList(ctx, "u1", later)
	if err != nil || len(list) != 1 || list[0].ID != "g2" || list[0].ClientName != "Client g2" || list[0].Scope != g2.Scope {
		t.Fatalf("OAuthGrantList(u1) = %+v, %v; want g2 only", list, err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g2", []byte("s1"), []byte("s3"), later.Add(time.Hour), later); !errors.Is(err, eventstore.ErrOAuthReplayed) {
		t.Fatalf("reuse of a rotated-away token = %v, want ErrOAuthReplayed", err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g2", []byte("s2"), []byte("s3"), later.Add(time.Hour), later); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("the current token after a reuse = %v, want ErrOAuthNotFound (family revoked)", err)
	}
	if list, _ := s.OAuthGrantList(ctx, "u1", later); len(list) != 0 {
		t.Fatalf("OAuthGrantList after revocations = %+v, want none", list)
	}
	expectFeedLen(t, s, 0)
}

// testOAuthCodeReplayed: a second redemption of a code fails and revokes
// the grant the first one made.
func testOAuthCodeReplayed(t *testing.T, newStore Opener[OAuthStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	oauthGrant(t, s, "g1", "u1")
	if _, err := s.OAuthCodeRedeem(ctx, []byte("code-g1"), []byte("r1"), oauthT0.Add(time.Hour), oauthT0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthCodeRedeem(ctx, []byte("code-g1"), []byte("r9"), oauthT0.Add(time.Hour), oauthT0); !errors.Is(err, eventstore.ErrOAuthReplayed) {
		t.Fatalf("second redemption = %v, want ErrOAuthReplayed", err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g1", []byte("r1"), []byte("r2"), oauthT0.Add(time.Hour), oauthT0); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("refresh after a replayed code = %v, want ErrOAuthNotFound", err)
	}
	inForce(t, s, "g1", false)
	if _, err := s.OAuthCodeRedeem(ctx, []byte("never-issued"), []byte("r9"), oauthT0.Add(time.Hour), oauthT0); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("redemption of an unknown code = %v, want ErrOAuthNotFound", err)
	}
}

// testOAuthCodeRedeemConcurrent: of concurrent redemptions of one code,
// exactly one wins.
func testOAuthCodeRedeemConcurrent(t *testing.T, newStore Opener[OAuthStore]) {
	s := newStore(t, eventstore.Options{})
	oauthGrant(t, s, "g1", "u1")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.OAuthCodeRedeem(t.Context(), []byte("code-g1"), []byte{byte(i)}, oauthT0.Add(time.Hour), oauthT0)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, eventstore.ErrOAuthReplayed):
			t.Fatalf("a losing redemption = %v, want ErrOAuthReplayed", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d redemptions won, want exactly 1", won)
	}
}

// inForce fails t unless grant id's being in force is want.
func inForce(t *testing.T, s eventstore.OAuthStore, id string, want bool) {
	t.Helper()
	if got, err := s.OAuthGrantInForce(t.Context(), id); err != nil || got != want {
		t.Fatalf("grant %s in force: %v, %v; want %v", id, got, err, want)
	}
}

// testOAuthRevoke: only the owner revokes (an empty user means any), once;
// a grant is in force from its redemption until its revocation.
func testOAuthRevoke(t *testing.T, newStore Opener[OAuthStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	oauthGrant(t, s, "g1", "u1")
	inForce(t, s, "g1", false)
	inForce(t, s, "never-made", false)
	if _, err := s.OAuthCodeRedeem(ctx, []byte("code-g1"), []byte("r1"), oauthT0.Add(time.Hour), oauthT0); err != nil {
		t.Fatal(err)
	}
	inForce(t, s, "g1", true)
	if ok, err := s.OAuthGrantRevoke(ctx, "g1", "u2", oauthT0); err != nil || ok {
		t.Fatalf("revoke by another user = %v, %v; want false", ok, err)
	}
	if ok, err := s.OAuthGrantRevoke(ctx, "g1", "u1", oauthT0); err != nil || !ok {
		t.Fatalf("revoke by its user = %v, %v; want true", ok, err)
	}
	inForce(t, s, "g1", false)
	if ok, err := s.OAuthGrantRevoke(ctx, "g1", "", oauthT0); err != nil || ok {
		t.Fatalf("second revoke = %v, %v; want false", ok, err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g1", []byte("r1"), []byte("r2"), oauthT0.Add(time.Hour), oauthT0); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("refresh of a revoked grant = %v, want ErrOAuthNotFound", err)
	}
}

// testOAuthRefreshRevoke: a grant's current refresh token revokes it; a
// token made up around its id, or one rotated away, revokes nothing.
func testOAuthRefreshRevoke(t *testing.T, newStore Opener[OAuthStore]) {
	s := newStore(t, eventstore.Options{})
	ctx := t.Context()
	oauthGrant(t, s, "g1", "u1")
	if _, err := s.OAuthCodeRedeem(ctx, []byte("code-g1"), []byte("r1"), oauthT0.Add(time.Hour), oauthT0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g1", []byte("r1"), []byte("r2"), oauthT0.Add(time.Hour), oauthT0); err != nil {
		t.Fatal(err)
	}
	for _, hash := range []string{"made up", "r1"} {
		if ok, err := s.OAuthRefreshRevoke(ctx, "g1", []byte(hash), oauthT0); err != nil || ok {
			t.Fatalf("revoke with token %q = %v, %v; want false", hash, ok, err)
		}
	}
	if ok, err := s.OAuthRefreshRevoke(ctx, "g2", []byte("r2"), oauthT0); err != nil || ok {
		t.Fatalf("revoke of another grant with g1's token = %v, %v; want false", ok, err)
	}
	if list, err := s.OAuthGrantList(ctx, "u1", oauthT0); err != nil || len(list) != 1 {
		t.Fatalf("OAuthGrantList after refused revocations = %+v, %v; want g1 in force", list, err)
	}
	if ok, err := s.OAuthRefreshRevoke(ctx, "g1", []byte("r2"), oauthT0); err != nil || !ok {
		t.Fatalf("revoke with the current token = %v, %v; want true", ok, err)
	}
	if ok, err := s.OAuthRefreshRevoke(ctx, "g1", []byte("r2"), oauthT0); err != nil || ok {
		t.Fatalf("second revoke = %v, %v; want false", ok, err)
	}
	if _, err := s.OAuthRefreshRotate(ctx, "g1", []byte("r2"), []byte("r3"), oauthT0.Add(time.Hour), oauthT0); !errors.Is(err, eventstore.ErrOAuthNotFound) {
		t.Fatalf("refresh of a revoked grant = %v, want ErrOAuthNotFound", err)
	}
}
