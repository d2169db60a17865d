package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ eventstore.WebhookDeliveryStore = (*Store)(nil)

// WebhookDispatchCheckpoint implements eventstore.WebhookDeliveryStore: a
// row of projection_checkpoints, as a projection's.
func (s *Store) WebhookDispatchCheckpoint(ctx context.Context, name string) (int64, error) {
	return s.TaskViewsCheckpoint(ctx, name)
}

// WebhookDispatchApply implements eventstore.WebhookDeliveryStore. The
// checkpoint row is locked for the transaction, so concurrent dispatchers
// serialize and all but one fail with a *projections.CheckpointError.
func (s *Store) WebhookDispatchApply(ctx context.Context, name string, from, to int64, endpoints []eventstore.WebhookEndpoint, deliveries []eventstore.WebhookDelivery) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := engine.ValidateDispatch(from, to, endpoints, deliveries); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.ProjectionCheckpointEnsure(ctx, tx, name); err != nil {
			return err
		}
		at, err := s.q.ProjectionCheckpointLock(ctx, tx, name)
		if err != nil {
			return err
		}
		if at != from {
			return &projections.CheckpointError{Name: name, Expected: from, Actual: at}
		}
		for _, e := range endpoints {
			if err := s.q.WebhookEndpointUpsert(ctx, tx, dbsqlc.WebhookEndpointUpsertParams{WebhookID: e.WebhookID, TenantID: e.TenantID, Events: e.Events, Active: e.Active}); err != nil {
				return err
			}
		}
		for _, d := range deliveries {
			if err := s.q.WebhookDeliveryInsert(ctx, tx, dbsqlc.WebhookDeliveryInsertParams{ID: d.ID, WebhookID: d.WebhookID, TenantID: d.TenantID, Position: d.Position,
				StreamID: d.StreamID, Seq: d.Seq, EventType: string(d.EventType), NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt}); err != nil {
				return err
			}
		}
		return s.q.ProjectionCheckpointSet(ctx, tx, dbsqlc.ProjectionCheckpointSetParams{Name: name, NextPosition: to})
	})
	if err != nil {
		return fmt.Errorf("dispatch webhooks of positions %d to %d: %w", from, to, err)
	}
	return nil
}

// WebhookEndpointList implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookEndpointList(ctx context.Context) ([]eventstore.WebhookEndpoint, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.WebhookEndpointList(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]eventstore.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = eventstore.WebhookEndpoint{WebhookID: r.WebhookID, TenantID: r.TenantID, Events: r.Events, Active: r.Active}
	}
	return out, nil
}

// webhookClaimLockKey serializes webhook claims across processes.
const webhookClaimLockKey int64 = 0x61786f6e5f776863 // "axon_whc"

// WebhookDeliveryClaim implements eventstore.WebhookDeliveryStore: one
// UPDATE, whose lease condition Postgres re-checks on a row a concurrent
// claim changed, after a transaction lock that orders the claims of every
// process. The lock is what keeps an endpoint to one request at a time: a
// claim's snapshot taken before another's lease commits would see no
// delivery of the endpoint in flight, and take an older one redelivered
// meanwhile beside it.
func (s *Store) WebhookDeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]eventstore.WebhookDelivery, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	var rows []dbsqlc.WebhookDeliveryClaimRow
	// The UPDATE's snapshot is taken after the lock (inLockedTx).
	err := inLockedTx(ctx, s.pool, webhookClaimLockKey, func(tx pgx.Tx) error {
		var err error
		rows, err = s.q.WebhookDeliveryClaim(ctx, tx, dbsqlc.WebhookDeliveryClaimParams{
			LeaseUntil: pgtype.Timestamptz{Time: leaseUntil, Valid: true}, Now: now, MaxClaims: int32(max(1, min(limit, eventstore.MaxWebhookDeliveriesListed)))})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	out := make([]eventstore.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = delivery(dbsqlc.WebhookDeliveryListRow(r))
	}
	return out, nil
}

// WebhookDeliveryRecord implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryRecord(ctx context.Context, a eventstore.WebhookAttempt, state eventstore.DeliveryState, nextAttemptAt, enabledAt time.Time) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	a, err := engine.PrepareAttempt(a, state)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := s.q.WebhookDeliveryUpdate(ctx, tx, dbsqlc.WebhookDeliveryUpdateParams{State: string(state), Attempt: int32(a.Attempt), NextAttemptAt: nextAttemptAt,
			At: a.At, LastStatus: int32(a.StatusCode), LastError: a.Error, ID: a.DeliveryID})
		if err != nil || n == 0 {
			return err
		}
		if err := s.q.WebhookAttemptInsert(ctx, tx, dbsqlc.WebhookAttemptInsertParams{DeliveryID: a.DeliveryID, Attempt: int32(a.Attempt), At: a.At,
			StatusCode: int32(a.StatusCode), LatencyUs: a.Latency.Microseconds(), Response: a.Response, Error: a.Error}); err != nil {
			return err
		}
		return s.q.WebhookEndpointFailing(ctx, tx, dbsqlc.WebhookEndpointFailingParams{Succeeded: a.Error == "",
			At: a.At, DeliveryID: a.DeliveryID, EnabledAt: enabledAt})
	})
	if err != nil {
		return fmt.Errorf("record attempt %d of delivery %s: %w", a.Attempt, a.DeliveryID, err)
	}
	return nil
}

// WebhookEndpointFailingSince implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookEndpointFailingSince(ctx context.Context, webhookID string) (time.Time, error) {
	if s.closed.Load() {
		return time.Time{}, eventstore.ErrClosed
	}
	since, err := s.q.WebhookEndpointFailingSince(ctx, s.pool, webhookID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read webhook %s's failures: %w", webhookID, err)
	}
	return since.Time, nil
}

// WebhookDeliveryRetry implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryRetry(ctx context.Context, webhookID, id string, since, now time.Time) (int, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	n, err := s.q.WebhookDeliveryRetry(ctx, s.pool, dbsqlc.WebhookDeliveryRetryParams{Now: now, WebhookID: webhookID, Since: since, ID: id})
	if err != nil {
		return 0, fmt.Errorf("retry deliveries of webhook %s: %w", webhookID, err)
	}
	return int(n), nil
}

// WebhookDeliveryList implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryList(ctx context.Context, webhookID string, beforePosition int64, limit int) ([]eventstore.WebhookDelivery, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.WebhookDeliveryList(ctx, s.pool, dbsqlc.WebhookDeliveryListParams{WebhookID: webhookID, BeforePosition: beforePosition,
		MaxRows: int32(max(1, min(limit, eventstore.MaxWebhookDeliveriesListed)))})
	if err != nil {
		return nil, fmt.Errorf("list deliveries of webhook %s: %w", webhookID, err)
	}
	out := make([]eventstore.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = delivery(r)
	}
	return out, nil
}

// WebhookAttemptList implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookAttemptList(ctx context.Context, deliveryIDs []string) (map[string][]eventstore.WebhookAttempt, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	rows, err := s.q.WebhookAttemptList(ctx, s.pool, deliveryIDs)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	out := make(map[string][]eventstore.WebhookAttempt)
	for _, r := range rows {
		out[r.DeliveryID] = append(out[r.DeliveryID], eventstore.WebhookAttempt{DeliveryID: r.DeliveryID, Attempt: int(r.Attempt), At: r.At.UTC(),
			StatusCode: int(r.StatusCode), Latency: time.Duration(r.LatencyUs) * time.Microsecond, Response: r.Response, Error: r.Error})
	}
	return out, nil
}

func delivery(r dbsqlc.WebhookDeliveryListRow) eventstore.WebhookDelivery {
	return eventstore.WebhookDelivery{ID: r.ID, WebhookID: r.WebhookID, TenantID: r.TenantID, Position: r.Position, StreamID: r.StreamID, Seq: r.Seq,
		EventType: domain.EventType(r.EventType), State: eventstore.DeliveryState(r.State), Attempts: int(r.Attempts),
		NextAttemptAt: r.NextAttemptAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), LastStatus: int(r.LastStatus), LastError: r.LastError}
}

// WebhookDeliveryTenantsEnded implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryTenantsEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	ids, err := s.q.WebhookDeliveryTenantsEnded(ctx, s.pool, dbsqlc.WebhookDeliveryTenantsEndedParams{EndedBefore: endedBefore, AfterTenantID: afterTenantID,
		MaxTenants: int32(max(1, min(limit, eventstore.MaxWebhookDeliveriesListed)))})
	if err != nil {
		return nil, fmt.Errorf("list tenants with ended webhook deliveries: %w", err)
	}
	return ids, nil
}

// WebhookDeliveryPrune implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryPrune(ctx context.Context, tenantID string, endedBefore time.Time) (int, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.WebhookAttemptDeleteEnded(ctx, tx, dbsqlc.WebhookAttemptDeleteEndedParams{TenantID: tenantID, EndedBefore: endedBefore}); err != nil {
			return err
		}
		var err error
		n, err = s.q.WebhookDeliveryDeleteEnded(ctx, tx, dbsqlc.WebhookDeliveryDeleteEndedParams{TenantID: tenantID, EndedBefore: endedBefore})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries of tenant %s: %w", tenantID, err)
	}
	return int(n), nil
}
