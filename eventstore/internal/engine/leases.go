package engine

import (
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateLeasePutWithin checks the arguments of LeaseStore.LeasePutWithin
// before any I/O and returns l with ExpiresAt normalized by
// domain.NormalizeTime. Every failure is a *domain.ValidationError: an
// invalid task, tenant or worker id (fields "task_id", "tenant_id",
// "worker_id"), an attempt below 1 ("attempt"), an expiry that is unset or
// whose UTC year is outside 0001–9999 ("expires_at"), or a limit below 1
// ("limit": a plan without concurrency should refuse the task before
// leasing it).
func ValidateLeasePutWithin(l eventstore.Lease, limit int) (eventstore.Lease, error) {
	for _, f := range []struct{ field, id string }{{"task_id", l.TaskID}, {"tenant_id", l.TenantID}, {"worker_id", l.WorkerID}} {
		if err := domain.ValidateIdentifier(f.field, f.id); err != nil {
			return eventstore.Lease{}, err
		}
	}
	if l.Attempt < 1 {
		return eventstore.Lease{}, &domain.ValidationError{Field: "attempt", Reason: fmt.Sprintf("is %d; attempts count from 1", l.Attempt)}
	}
	if err := checkTime("expires_at", l.ExpiresAt); err != nil {
		return eventstore.Lease{}, err
	}
	if limit < 1 {
		return eventstore.Lease{}, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be at least 1 (a plan without concurrency should refuse the task before leasing it)", limit)}
	}
	l.ExpiresAt = domain.NormalizeTime(l.ExpiresAt)
	return l, nil
}

// ValidateLeaseTake checks the arguments of
// LeaseAppender.AppendLeaseTake's lease as ValidateLeasePutWithin does, and
// that the lease is the stream's task's.
func ValidateLeaseTake(stream eventstore.Stream, l eventstore.Lease, limit int) (eventstore.Lease, error) {
	l, err := ValidateLeasePutWithin(l, limit)
	if err == nil && l.TaskID != stream.ID {
		err = &domain.ValidationError{Field: "task_id", Reason: fmt.Sprintf("is %s; a lease taken with an append must be the task of its stream, %s", l.TaskID, stream.ID)}
	}
	return l, err
}
