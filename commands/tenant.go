package commands

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// changeTenant lets decide pick the events of the principal's tenant (see
// updateTenant) and appends them as the principal: the member commands'
// write path.
func (d *IdentityDeps) changeTenant(ctx context.Context, by Principal, meta domain.Metadata, decide func(*domain.Tenant) ([]domain.Payload, error)) error {
	meta.Actor = by.Actor()
	return updateTenant(ctx, d.w, by.TenantID, meta, decide)
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
