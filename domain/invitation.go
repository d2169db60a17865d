package domain

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Invitation event types (tenant and inbox streams).
const (
	TenantMemberInvitedType      EventType = "tenant.member_invited"
	TenantInvitationAcceptedType EventType = "tenant.invitation_accepted"
	TenantInvitationDeclinedType EventType = "tenant.invitation_declined"
	TenantInvitationRevokedType  EventType = "tenant.invitation_revoked"
	InboxInvitationReceivedType  EventType = "inbox.invitation_received"
)

// MaxPendingInvitationsPerTenant bounds a tenant's pending invitations.
const MaxPendingInvitationsPerTenant = 100

// Errors of the invitation decisions.
var (
	// ErrInvitationNotFound: no pending invitation with that id for the
	// caller: it never was, or it was accepted, declined, revoked or expired.
	ErrInvitationNotFound = errors.New("no pending invitation with this id: it may have expired, been revoked, accepted or declined")

	// ErrTooManyInvitations: the tenant has MaxPendingInvitationsPerTenant
	// pending invitations.
	ErrTooManyInvitations = fmt.Errorf("the tenant has %d pending invitations, the limit; revoke some or wait for them to expire", MaxPendingInvitationsPerTenant)
)

// TenantMemberInvited invites the holder of an email address into the
// tenant with a role, until ExpiresAt (FormatTime). Nothing changes for
// the address until its user accepts.
type TenantMemberInvited struct {
	Email        string `json:"email"`
	ExpiresAt    string `json:"expires_at"`
	InvitationID string `json:"invitation_id"`
	InvitedBy    string `json:"invited_by"`
	Role         Role   `json:"role"`
}

// EventType returns TenantMemberInvitedType.
func (TenantMemberInvited) EventType() EventType { return TenantMemberInvitedType }

// TenantInvitationAccepted records that UserID accepted the invitation;
// tenant.member_added follows in the same append unless they were a
// member already.
type TenantInvitationAccepted struct {
	InvitationID string `json:"invitation_id"`
	UserID       string `json:"user_id"`
}

// EventType returns TenantInvitationAcceptedType.
func (TenantInvitationAccepted) EventType() EventType { return TenantInvitationAcceptedType }

// TenantInvitationDeclined records that UserID declined the invitation.
type TenantInvitationDeclined struct {
	InvitationID string `json:"invitation_id"`
	UserID       string `json:"user_id"`
}

// EventType returns TenantInvitationDeclinedType.
func (TenantInvitationDeclined) EventType() EventType { return TenantInvitationDeclinedType }

// TenantInvitationRevoked records that a manager of the tenant withdrew the
// invitation.
type TenantInvitationRevoked struct {
	InvitationID string `json:"invitation_id"`
	RevokedBy    string `json:"revoked_by"`
}

// EventType returns TenantInvitationRevokedType.
func (TenantInvitationRevoked) EventType() EventType { return TenantInvitationRevokedType }

// InboxInvitationReceived tells an address's inbox that TenantID invited
// it. It is a pointer, not the invitation: the tenant's stream says
// whether the invitation is still pending.
type InboxInvitationReceived struct {
	InvitationID string `json:"invitation_id"`
	TenantID     string `json:"tenant_id"`
}

// EventType returns InboxInvitationReceivedType.
func (InboxInvitationReceived) EventType() EventType { return InboxInvitationReceivedType }

// Invitation is a pending invitation of a tenant.
type Invitation struct {
	ID        string
	Email     string
	Role      Role
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Pending reports whether the invitation can still be accepted at now.
func (i Invitation) Pending(now time.Time) bool { return now.Before(i.ExpiresAt) }

// applyInvitation evolves the tenant's invitations by one invitation
// event; it reports false for an event of another kind.
func (t *Tenant) applyInvitation(p any, at time.Time) (bool, error) {
	switch p := p.(type) {
	case *TenantMemberInvited:
		expires, err := ParseTime(p.ExpiresAt)
		if err != nil {
			return true, fmt.Errorf("tenant.member_invited expires_at: %w", err)
		}
		if t.invitations == nil {
			t.invitations = map[string]Invitation{}
		}
		// Expired invitations go as new ones come, so the map stays small.
		maps.DeleteFunc(t.invitations, func(_ string, i Invitation) bool { return !i.Pending(at) })
		t.invitations[p.InvitationID] = Invitation{ID: p.InvitationID, Email: p.Email, Role: p.Role, InvitedBy: p.InvitedBy, CreatedAt: at, ExpiresAt: expires}
	case *TenantInvitationAccepted:
		delete(t.invitations, p.InvitationID)
	case *TenantInvitationDeclined:
		delete(t.invitations, p.InvitationID)
	case *TenantInvitationRevoked:
		delete(t.invitations, p.InvitationID)
	default:
		return false, nil
	}
	return true, nil
}

// Invitations returns the tenant's invitations pending at now, for email
// ("" for every address), oldest first.
func (t *Tenant) Invitations(email string, now time.Time) []Invitation {
	var out []Invitation
	for _, i := range t.invitations {
		if i.Pending(now) && (email == "" || i.Email == email) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b Invitation) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// DecideInvite returns the event that invites email (normalized) with role
// by invitedBy at now, valid for ttl, under invitationID. An invitation of
// the address pending already is answered as it is (no event: inviting is
// idempotent while one is pending). A member already is ErrAlreadyMember
// (memberID is the address's user id); a tenant with
// MaxPendingInvitationsPerTenant pending ones is ErrTooManyInvitations.
func (t *Tenant) DecideInvite(invitationID, email, memberID string, role Role, invitedBy string, now time.Time, ttl time.Duration) (Invitation, []Payload, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return Invitation{}, nil, err
	}
	if _, ok := t.members[memberID]; ok {
		return Invitation{}, nil, ErrAlreadyMember
	}
	if pending := t.Invitations(email, now); len(pending) > 0 {
		return pending[len(pending)-1], nil, nil
	}
	if len(t.Invitations("", now)) >= MaxPendingInvitationsPerTenant {
		return Invitation{}, nil, ErrTooManyInvitations
	}
	inv := Invitation{ID: invitationID, Email: email, Role: role, InvitedBy: invitedBy, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	return inv, []Payload{&TenantMemberInvited{Email: email, ExpiresAt: FormatTime(inv.ExpiresAt), InvitationID: invitationID, InvitedBy: invitedBy, Role: role}}, nil
}

// pendingFor returns invitation id when it is pending at now for email;
// otherwise ErrInvitationNotFound.
func (t *Tenant) pendingFor(id, email string, now time.Time) (Invitation, error) {
	inv, ok := t.invitations[id]
	if !ok || !inv.Pending(now) || (email != "" && inv.Email != email) {
		return Invitation{}, ErrInvitationNotFound
	}
	return inv, nil
}

// DecideAcceptInvitation returns the events by which userID, whose address
// is email, accepts invitation id at now: tenant.invitation_accepted, then
// tenant.member_added with the invitation's role (unless userID is a
// member already). An invitation that is not pending for email is
// ErrInvitationNotFound.
func (t *Tenant) DecideAcceptInvitation(id, userID, email string, now time.Time) (Invitation, []Payload, error) {
	inv, err := t.pendingFor(id, email, now)
	if err != nil {
		return Invitation{}, nil, err
	}
	events := []Payload{&TenantInvitationAccepted{InvitationID: id, UserID: userID}}
	if _, ok := t.members[userID]; !ok {
		events = append(events, &TenantMemberAdded{Role: inv.Role, UserID: userID})
	}
	return inv, events, nil
}

// DecideDeclineInvitation returns the event by which userID, whose address
// is email, declines invitation id at now. An invitation that is not
// pending for email is ErrInvitationNotFound.
func (t *Tenant) DecideDeclineInvitation(id, userID, email string, now time.Time) ([]Payload, error) {
	if _, err := t.pendingFor(id, email, now); err != nil {
		return nil, err
	}
	return []Payload{&TenantInvitationDeclined{InvitationID: id, UserID: userID}}, nil
}

// DecideRevokeInvitation returns the event by which revokedBy withdraws
// invitation id at now. An invitation that is not pending is
// ErrInvitationNotFound.
func (t *Tenant) DecideRevokeInvitation(id, revokedBy string, now time.Time) ([]Payload, error) {
	if _, err := t.pendingFor(id, "", now); err != nil {
		return nil, err
	}
	return []Payload{&TenantInvitationRevoked{InvitationID: id, RevokedBy: revokedBy}}, nil
}

// Inbox is the invitations an email address received: pointers to the
// tenants that sent them. The zero value is an inbox whose stream is empty.
type Inbox struct {
	seq int64
	// tenants maps each invitation id to the tenant that sent it.
	tenants map[string]string
	// order lists the tenants, most recent invitation last, each once.
	order []string
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (b *Inbox) Seq() int64 { return b.seq }

// TenantOf returns the tenant that sent invitation id; ok is false for an
// invitation this inbox never received.
func (b *Inbox) TenantOf(id string) (tenantID string, ok bool) {
	tenantID, ok = b.tenants[id]
	return tenantID, ok
}

// Tenants returns the tenants that invited the address, most recent first,
// at most limit.
func (b *Inbox) Tenants(limit int) []string {
	out := slices.Clone(b.order)
	slices.Reverse(out)
	return out[:min(limit, len(out))]
}

// Apply evolves the inbox by one stored event.
func (b *Inbox) Apply(e Event) error {
	p, err := applyNext("inbox", b.seq, e, InboxInvitationReceivedType)
	if err != nil {
		return err
	}
	r := p.(*InboxInvitationReceived)
	if b.tenants == nil {
		b.tenants = map[string]string{}
	}
	b.tenants[r.InvitationID] = r.TenantID
	b.order = slices.DeleteFunc(b.order, func(id string) bool { return id == r.TenantID })
	b.order = append(b.order, r.TenantID)
	b.seq = e.Seq
	return nil
}

// DecideReceive returns the event that points the inbox at invitation id
// of tenantID, or none when it points there already.
func (b *Inbox) DecideReceive(id, tenantID string) []Payload {
	if b.tenants[id] == tenantID {
		return nil
	}
	return []Payload{&InboxInvitationReceived{InvitationID: id, TenantID: tenantID}}
}
