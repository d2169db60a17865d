package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// DefaultInvitationTTL is how long an invitation can be accepted (see
// IdentityConfig.InvitationTTL).
const DefaultInvitationTTL = 7 * 24 * time.Hour

// MaxInvitingTenantsListed bounds the tenants whose invitations
// ListMyInvitations reads: the most recent to invite the address.
const MaxInvitingTenantsListed = 100

// InvitationInfo is an invitation as the tenant that sent it and the user
// it invites see it.
type InvitationInfo struct {
	domain.Invitation
	TenantID   string
	TenantName string
}

// InboxIDFor returns the id of the inbox stream of a normalized email
// address: it derives from the address, whether or not a user registered
// it, so that an invitation reaches an address before its user exists.
func InboxIDFor(email string) string { return derivedID("inbox", email).String() }

// inboxStream returns the inbox stream of a normalized email address; its
// tenant id is its own id, so that no tenant's feed holds it.
func inboxStream(email string) eventstore.Stream {
	id := InboxIDFor(email)
	return eventstore.Stream{ID: id, Type: domain.StreamInbox, TenantID: id}
}

// invitee returns the signed-in user's id and email address: invitations
// are answered by a user, never by an API key, which acts in its own
// tenant only.
func (d *IdentityDeps) invitee(ctx context.Context, by Principal) (userID, email string, err error) {
	if by.KeyID != "" || by.UserID == "" {
		return "", "", fmt.Errorf("%w: invitations are the signed-in user's to see and answer; sign in (axontask login, POST /v1/auth/login) rather than use an API key", ErrForbidden)
	}
	var user domain.User
	if err := d.load(ctx, domain.StreamUser, by.UserID, &user); err != nil {
		return "", "", err
	}
	if !user.Exists() {
		return "", "", fmt.Errorf("user %s: %w", by.UserID, ErrUnauthenticated)
	}
	return by.UserID, user.Email(), nil
}

// answerInvitation finds invitation id in the signed-in user's inbox and
// appends to the tenant that sent it what decide returns. An invitation
// the inbox does not hold is domain.ErrInvitationNotFound, whoever's it is.
func (d *IdentityDeps) answerInvitation(ctx context.Context, by Principal, id string, meta domain.Metadata,
	decide func(t *domain.Tenant, userID, email string, now time.Time) ([]domain.Payload, error)) (tenantID string, err error) {
	userID, email, err := d.invitee(ctx, by)
	if err != nil {
		return "", err
	}
	var inbox domain.Inbox
	if err := Load(ctx, d.w.Store, inboxStream(email), &inbox); err != nil {
		return "", err
	}
	tenantID, ok := inbox.TenantOf(id)
	if !ok {
		return "", domain.ErrInvitationNotFound
	}
	meta.Actor = by.Actor()
	now := d.cfg.NowFunc()
	return tenantID, updateTenant(ctx, d.w, tenantID, meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		return decide(t, userID, email, now)
	})
}
