package domain

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// ErrLastOwner is returned when a change would leave a tenant without an owner.
var ErrLastOwner = errors.New("a tenant must keep at least one owner")

// ErrNotMember is returned for a membership change of a user who is not a
// member of the tenant.
var ErrNotMember = errors.New("the user is not a member of this tenant")

// ErrAlreadyMember is returned when adding a user who is already a member.
var ErrAlreadyMember = errors.New("the user is already a member of this tenant")

// Tenant is the tenant aggregate: its name and its members' roles. The zero
// value is a tenant whose stream is empty.
type Tenant struct {
	seq       int64
	name      string
	createdAt time.Time
	members   map[string]Role
	joined    map[string]time.Time
	plan      PlanName
	// invitations are the pending ones (and expired ones not yet dropped).
	invitations map[string]Invitation
	// billingCustomer is the tenant's customer id at the payment
	// provider (Stripe), empty before the first checkout.
	billingCustomer string
	// pastDueGraceEnds is when the grace period of a failed payment ends;
	// zero while payments are in order.
	pastDueGraceEnds time.Time
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (t *Tenant) Seq() int64 { return t.seq }

// Exists reports whether the tenant has been created.
func (t *Tenant) Exists() bool { return t.seq > 0 }

// Name returns the tenant's display name.
func (t *Tenant) Name() string { return t.name }

// CreatedAt returns when the tenant was created.
func (t *Tenant) CreatedAt() time.Time { return t.createdAt }

// Role returns userID's role in the tenant; ok is false for a non-member.
func (t *Tenant) Role(userID string) (role Role, ok bool) {
	role, ok = t.members[userID]
	return role, ok
}

// Joined returns when userID last became a member: the time of the event
// that added them (zero when they are not a member).
func (t *Tenant) Joined(userID string) time.Time { return t.joined[userID] }

// Plan returns the tenant's plan; empty while it is on the default plan.
func (t *Tenant) Plan() PlanName { return t.plan }

// Members returns a copy of the tenant's members and their roles.
func (t *Tenant) Members() map[string]Role { return maps.Clone(t.members) }

// Apply evolves the tenant by one stored event.
func (t *Tenant) Apply(e Event) error {
	allowed := []EventType{TenantCreatedType}
	if t.seq > 0 {
		allowed = []EventType{TenantMemberAddedType, TenantMemberRoleChangedType, TenantMemberRemovedType, TenantPlanChangedType,
			TenantMemberInvitedType, TenantInvitationAcceptedType, TenantInvitationDeclinedType, TenantInvitationRevokedType, TenantBillingCustomerSetType,
			TenantPaymentFailedType, TenantPaymentRecoveredType}
	}
	p, err := applyNext("tenant", t.seq, e, allowed...)
	if err != nil {
		return err
	}
	if ok, err := t.applyInvitation(p, e.OccurredAt); ok || err != nil {
		if err != nil {
			return err
		}
		t.seq = e.Seq
		return nil
	}
	switch p := p.(type) {
	case *TenantCreated:
		t.name = p.Name
		t.createdAt = e.OccurredAt
		t.members = map[string]Role{p.OwnerID: RoleOwner}
		t.joined = map[string]time.Time{p.OwnerID: e.OccurredAt}
	case *TenantMemberAdded:
		t.members[p.UserID] = p.Role
		t.joined[p.UserID] = e.OccurredAt
	case *TenantMemberRoleChanged:
		t.members[p.UserID] = p.Role
	case *TenantMemberRemoved:
		delete(t.members, p.UserID)
		delete(t.joined, p.UserID)
	case *TenantPlanChanged:
		if _, err := ParsePlanName(string(p.Plan)); err != nil {
			return err
		}
		t.plan = p.Plan
		t.pastDueGraceEnds = time.Time{} // a new plan settles the account
	case *TenantBillingCustomerSet:
		t.billingCustomer = p.CustomerID
	case *TenantPaymentFailed:
		if t.pastDueGraceEnds.IsZero() { // the first failure's grace holds
			end, err := ParseTime(p.GraceEndsAt)
			if err != nil {
				return err
			}
			t.pastDueGraceEnds = end
		}
	case *TenantPaymentRecovered:
		t.pastDueGraceEnds = time.Time{}
	}
	t.seq = e.Seq
	return nil
}

// DecideChangeRole returns the event that gives member userID role, or
// none when they already have it. Demoting the last owner fails with ErrLastOwner.
func (t *Tenant) DecideChangeRole(userID string, role Role) ([]Payload, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	old, ok := t.members[userID]
	switch {
	case !ok:
		return nil, ErrNotMember
	case old == role:
		return nil, nil
	case old == RoleOwner && t.owners() == 1:
		return nil, fmt.Errorf("change the role of %s: %w; make another member owner first", userID, ErrLastOwner)
	}
	return []Payload{&TenantMemberRoleChanged{Role: role, UserID: userID}}, nil
}

// DecideRemoveMember returns the event that removes member userID. Removing
// the last owner fails with ErrLastOwner.
func (t *Tenant) DecideRemoveMember(userID string) ([]Payload, error) {
	role, ok := t.members[userID]
	switch {
	case !ok:
		return nil, ErrNotMember
	case role == RoleOwner && t.owners() == 1:
		return nil, fmt.Errorf("remove %s: %w; make another member owner first", userID, ErrLastOwner)
	}
	return []Payload{&TenantMemberRemoved{UserID: userID}}, nil
}

// DecidePlan returns the event that puts the tenant on plan, or none when
// it is on that plan already.
func (t *Tenant) DecidePlan(plan PlanName) ([]Payload, error) {
	if _, err := ParsePlanName(string(plan)); err != nil {
		return nil, err
	}
	if t.plan == plan {
		return nil, nil
	}
	return []Payload{&TenantPlanChanged{Plan: plan}}, nil
}

// BillingCustomer returns the tenant's customer id at the payment
// provider, or "" when it has none yet.
func (t *Tenant) BillingCustomer() string { return t.billingCustomer }

// DecideBillingCustomer returns the event that remembers customerID as
// the tenant's customer at the payment provider, none when it is already.
func (t *Tenant) DecideBillingCustomer(customerID string) ([]Payload, error) {
	if err := ValidateIdentifier("customer_id", customerID); err != nil {
		return nil, err
	}
	if t.billingCustomer == customerID {
		return nil, nil
	}
	return []Payload{&TenantBillingCustomerSet{CustomerID: customerID}}, nil
}

// PastDueGraceEnds returns when the grace period of the tenant's failed
// payment ends, or zero when its payments are in order.
func (t *Tenant) PastDueGraceEnds() time.Time { return t.pastDueGraceEnds }

// DecidePayment returns the event that records a payment of invoiceID
// that failed (the tenant past due, with a grace period ending at
// graceEnds) or succeeded; none for a success while the tenant is not
// past due.
func (t *Tenant) DecidePayment(invoiceID string, failed bool, graceEnds time.Time) ([]Payload, error) {
	if err := ValidateIdentifier("invoice_id", invoiceID); err != nil {
		return nil, err
	}
	if failed {
		return []Payload{&TenantPaymentFailed{InvoiceID: invoiceID, GraceEndsAt: FormatTime(graceEnds)}}, nil
	}
	if t.pastDueGraceEnds.IsZero() {
		return nil, nil
	}
	return []Payload{&TenantPaymentRecovered{InvoiceID: invoiceID}}, nil
}

func (t *Tenant) owners() int {
	n := 0
	for _, r := range t.members {
		if r == RoleOwner {
			n++
		}
	}
	return n
}
