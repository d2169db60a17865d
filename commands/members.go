package commands

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// AddMember adds a registered user to the principal's tenant with a role.
type AddMember struct {
	By    Principal
	Email string
	Role  string
	Meta  domain.Metadata
}

// AddMember validates cmd and appends tenant.member_added. The principal
// must manage members and may not grant owner unless it is an owner.
// Unknown addresses are ErrUserNotFound; members already in are
// domain.ErrAlreadyMember.
func (id *Identity) AddMember(ctx context.Context, cmd AddMember) (userID string, err error) {
	if err := cmd.By.require(domain.ActionManageMembers); err != nil {
		return "", err
	}
	email, err := domain.NormalizeEmail(cmd.Email)
	if err != nil {
		return "", err
	}
	role, err := domain.ParseRole(cmd.Role)
	if err != nil {
		return "", err
	}
	if role == domain.RoleOwner && !cmd.By.isOwner() {
		return "", fmt.Errorf("%w: only an owner may make someone owner", ErrForbidden)
	}
	userID = UserIDFor(email)
	var user domain.User
	if err := id.load(ctx, domain.StreamUser, userID, &user); err != nil {
		return "", err
	}
	if !user.Exists() {
		return "", ErrUserNotFound
	}
	err = id.changeTenant(ctx, cmd.By, cmd.Meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		return t.DecideAddMember(userID, role)
	})
	if err != nil {
		return "", err
	}
	return userID, nil
}

// isOwner reports whether p is an owner signed in (keys are never owners):
// only owners make, unmake or remove owners.
func (p Principal) isOwner() bool { return p.KeyID == "" && p.Role == domain.RoleOwner }

// Member is a tenant member as listed.
type Member struct {
	UserID string
	Email  string
	Role   domain.Role
}

// ListMembers returns the members of the principal's tenant, by user id.
// Anyone who may read the tenant's tasks may list them.
func (id *Identity) ListMembers(ctx context.Context, by Principal) ([]Member, error) {
	if err := by.require(domain.ActionReadTasks); err != nil {
		return nil, err
	}
	var tenant domain.Tenant
	if err := id.load(ctx, domain.StreamTenant, by.TenantID, &tenant); err != nil {
		return nil, err
	}
	members := tenant.Members()
	out := make([]Member, 0, len(members))
	for _, userID := range slices.Sorted(maps.Keys(members)) {
		var u domain.User
		if err := id.load(ctx, domain.StreamUser, userID, &u); err != nil {
			return nil, err
		}
		out = append(out, Member{UserID: userID, Email: u.Email(), Role: members[userID]})
	}
	return out, nil
}

// ChangeMemberRole gives a member of the principal's tenant another role.
// Only an owner makes or unmakes owners; the last owner stays one
// (domain.ErrLastOwner). A user who is not a member is domain.ErrNotMember.
func (id *Identity) ChangeMemberRole(ctx context.Context, by Principal, userID, role string, meta domain.Metadata) error {
	if err := by.require(domain.ActionManageMembers); err != nil {
		return err
	}
	r, err := domain.ParseRole(role)
	if err != nil {
		return err
	}
	return id.changeTenant(ctx, by, meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		if old, _ := t.Role(userID); (old == domain.RoleOwner || r == domain.RoleOwner) && !by.isOwner() {
			return nil, fmt.Errorf("%w: only an owner may make or unmake owners", ErrForbidden)
		}
		return t.DecideChangeRole(userID, r)
	})
}

// RemoveMember removes a member from the principal's tenant. Only an owner
// removes an owner; the last owner stays (domain.ErrLastOwner). The
// member's access tokens work until they expire; refreshing them fails.
func (id *Identity) RemoveMember(ctx context.Context, by Principal, userID string, meta domain.Metadata) error {
	if err := by.require(domain.ActionManageMembers); err != nil {
		return err
	}
	return id.changeTenant(ctx, by, meta, func(t *domain.Tenant) ([]domain.Payload, error) {
		if old, _ := t.Role(userID); old == domain.RoleOwner && !by.isOwner() {
			return nil, fmt.Errorf("%w: only an owner may remove an owner", ErrForbidden)
		}
		return t.DecideRemoveMember(userID)
	})
}

// changeTenant lets decide pick the events of the principal's tenant (see
// updateTenant) and appends them as the principal.
func (id *Identity) changeTenant(ctx context.Context, by Principal, meta domain.Metadata, decide func(*domain.Tenant) ([]domain.Payload, error)) error {
	meta.Actor = by.Actor()
	return updateTenant(ctx, id.w, by.TenantID, meta, decide)
}

// updateTenant loads a tenant and updates it with decide (see Update). A
// tenant that does not exist is ErrTenantNotFound.
func updateTenant(ctx context.Context, w Writer, tenantID string, meta domain.Metadata, decide func(*domain.Tenant) ([]domain.Payload, error)) error {
	stream := eventstore.Stream{ID: tenantID, Type: domain.StreamTenant, TenantID: tenantID}
	var tenant domain.Tenant
	if err := Load(ctx, w.Store, stream, &tenant); err != nil {
		return err
	}
	if !tenant.Exists() {
		return fmt.Errorf("tenant %s: %w", tenantID, ErrTenantNotFound)
	}
	_, err := Update(ctx, w, Target{Stream: stream, Meta: meta}, &tenant, decide)
	return err
}
