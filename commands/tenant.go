package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

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
	return updateTenantOnce(ctx, w, tenantID, meta, "", "", decide)
}

// updateTenantOnce is updateTenant whose events' ids derive from commandID
// (of the command named command) when it is not empty, so that a retried
// command appends nothing twice: an append of an id stored already is
// eventstore.ErrEventIDReused, which it answers as done.
func updateTenantOnce(ctx context.Context, w Writer, tenantID string, meta domain.Metadata, command, commandID string, decide func(*domain.Tenant) ([]domain.Payload, error)) error {
	stream := eventstore.Stream{ID: tenantID, Type: domain.StreamTenant, TenantID: tenantID}
	var tenant domain.Tenant
	if err := Load(ctx, w.Store, stream, &tenant); err != nil {
		return err
	}
	if !tenant.Exists() {
		return fmt.Errorf("tenant %s: %w", tenantID, ErrTenantNotFound)
	}
	to := Target{Stream: stream, Meta: withCausation(meta, commandID)}
	if commandID != "" {
		to.EventIDFunc = func(i int) uuid.UUID { return derivedID(command, tenantID, commandID, strconv.Itoa(i)) }
	}
	_, err := Update(ctx, w, to, &tenant, decide)
	if commandID != "" && errors.Is(err, eventstore.ErrEventIDReused) {
		return nil // the command was applied before
	}
	return err
}
