package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
	"github.com/axontask/axontask/projections"
)

var _ eventstore.WebhookDeliveryStore = (*Store)(nil)

// WebhookDispatchCheckpoint implements eventstore.WebhookDeliveryStore: a
// row of projection_checkpoints, as a projection's.
func (s *Store) WebhookDispatchCheckpoint(ctx context.Context, name string) (int64, error) {
	return s.TaskViewsCheckpoint(ctx, name)
}

// WebhookDispatchApply implements eventstore.WebhookDeliveryStore. It runs
// on the writer connection, so appends wait while it stores a batch.
func (s *Store) WebhookDispatchApply(ctx context.Context, name string, from, to int64, endpoints []eventstore.WebhookEndpoint, deliveries []eventstore.WebhookDelivery) error {
	if err := engine.ValidateDispatch(from, to, endpoints, deliveries); err != nil {
		return err
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		at, err := s.q.ProjectionCheckpointGet(ctx, tx, name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if at != from {
			return &projections.CheckpointError{Name: name, Expected: from, Actual: at}
		}
		for _, e := range endpoints {
			events, err := json.Marshal(e.Events)
			if err != nil {
				return err
			}
			if err := s.q.WebhookEndpointUpsert(ctx, tx, dbsqlc.WebhookEndpointUpsertParams{WebhookID: e.WebhookID, TenantID: e.TenantID, Events: string(events), Active: boolInt(e.Active)}); err != nil {
				return err
			}
		}
		for _, d := range deliveries {
			if err := s.q.WebhookDeliveryInsert(ctx, tx, dbsqlc.WebhookDeliveryInsertParams{ID: d.ID, WebhookID: d.WebhookID, TenantID: d.TenantID, Position: d.Position,
				StreamID: d.StreamID, Seq: d.Seq, EventType: string(d.EventType), NextAttemptAt: d.NextAttemptAt.UnixMicro(), CreatedAt: d.CreatedAt.UnixMicro()}); err != nil {
				return err
			}
		}
		return s.q.CheckpointSave(ctx, tx, dbsqlc.CheckpointSaveParams{Name: name, NextPosition: to})
	})
	if err != nil {
		return fmt.Errorf("dispatch webhooks of positions %d to %d: %w", from, to, err)
	}
	return nil
}

// writeTx runs fn in a transaction on the writer connection.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.closedOr(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return s.closedOr(err)
	}
	return s.closedOr(tx.Commit())
}

// WebhookEndpointList implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookEndpointList(ctx context.Context) ([]eventstore.WebhookEndpoint, error) {
	rows, err := s.q.WebhookEndpointList(ctx, s.rdb)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", s.closedOr(err))
	}
	out := make([]eventstore.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = eventstore.WebhookEndpoint{WebhookID: r.WebhookID, TenantID: r.TenantID, Active: r.Active != 0}
		if err := json.Unmarshal([]byte(r.Events), &out[i].Events); err != nil {
			return nil, fmt.Errorf("endpoint %s: events: %w", r.WebhookID, err)
		}
	}
	return out, nil
}

// WebhookDeliveryClaim implements eventstore.WebhookDeliveryStore: one
// UPDATE on the writer connection, so claims never overlap.
func (s *Store) WebhookDeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]eventstore.WebhookDelivery, error) {
	var rows []dbsqlc.WebhookDeliveryClaimRow
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		rows, err = s.q.WebhookDeliveryClaim(ctx, db, dbsqlc.WebhookDeliveryClaimParams{LeaseUntil: micros(leaseUntil), Now: now.UnixMicro(),
			MaxClaims: int64(max(1, min(limit, eventstore.MaxWebhookDeliveriesListed)))})
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
	a, err := engine.PrepareAttempt(a, state)
	if err != nil {
		return err
	}
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		n, err := s.q.WebhookDeliveryUpdate(ctx, tx, dbsqlc.WebhookDeliveryUpdateParams{State: string(state), Attempt: int64(a.Attempt), NextAttemptAt: nextAttemptAt.UnixMicro(),
			At: a.At.UnixMicro(), LastStatus: int64(a.StatusCode), LastError: a.Error, ID: a.DeliveryID})
		if err != nil || n == 0 {
			return err
		}
		if err := s.q.WebhookAttemptInsert(ctx, tx, dbsqlc.WebhookAttemptInsertParams{DeliveryID: a.DeliveryID, Attempt: int64(a.Attempt), At: a.At.UnixMicro(),
			StatusCode: int64(a.StatusCode), LatencyUs: a.Latency.Microseconds(), Response: a.Response, Error: a.Error}); err != nil {
			return err
		}
		return s.q.WebhookEndpointFailing(ctx, tx, dbsqlc.WebhookEndpointFailingParams{Succeeded: boolInt(a.Error == ""), At: micros(a.At), DeliveryID: a.DeliveryID,
			EnabledAt: micros(enabledAt)})
	})
	if err != nil {
		return fmt.Errorf("record attempt %d of delivery %s: %w", a.Attempt, a.DeliveryID, err)
	}
	return nil
}

// WebhookEndpointFailingSince implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookEndpointFailingSince(ctx context.Context, webhookID string) (time.Time, error) {
	since, err := s.q.WebhookEndpointFailingSince(ctx, s.rdb, webhookID)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !since.Valid):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("read webhook %s's failures: %w", webhookID, err)
	}
	return time.UnixMicro(since.Int64).UTC(), nil
}

// WebhookDeliveryRetry implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryRetry(ctx context.Context, webhookID, id string, since, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(db dbsqlc.DBTX) error {
		var err error
		n, err = s.q.WebhookDeliveryRetry(ctx, db, dbsqlc.WebhookDeliveryRetryParams{Now: now.UnixMicro(), WebhookID: webhookID, Since: since.UnixMicro(), ID: id})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retry deliveries of webhook %s: %w", webhookID, err)
	}
	return int(n), nil
}

// WebhookDeliveryList implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryList(ctx context.Context, webhookID string, beforePosition int64, limit int) ([]eventstore.WebhookDelivery, error) {
	rows, err := s.q.WebhookDeliveryList(ctx, s.rdb, dbsqlc.WebhookDeliveryListParams{WebhookID: webhookID, BeforePosition: beforePosition,
		MaxRows: int64(max(1, min(limit, eventstore.MaxWebhookDeliveriesListed)))})
	if err != nil {
		return nil, fmt.Errorf("list deliveries of webhook %s: %w", webhookID, s.closedOr(err))
	}
	out := make([]eventstore.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = delivery(r)
	}
	return out, nil
}

// WebhookAttemptList implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookAttemptList(ctx context.Context, deliveryIDs []string) (map[string][]eventstore.WebhookAttempt, error) {
	ids, err := json.Marshal(deliveryIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.q.WebhookAttemptList(ctx, s.rdb, string(ids))
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", s.closedOr(err))
	}
	out := make(map[string][]eventstore.WebhookAttempt)
	for _, r := range rows {
		out[r.DeliveryID] = append(out[r.DeliveryID], eventstore.WebhookAttempt{DeliveryID: r.DeliveryID, Attempt: int(r.Attempt), At: time.UnixMicro(r.At).UTC(),
			StatusCode: int(r.StatusCode), Latency: time.Duration(r.LatencyUs) * time.Microsecond, Response: r.Response, Error: r.Error})
	}
	return out, nil
}

func delivery(r dbsqlc.WebhookDeliveryListRow) eventstore.WebhookDelivery {
	return eventstore.WebhookDelivery{ID: r.ID, WebhookID: r.WebhookID, TenantID: r.TenantID, Position: r.Position, StreamID: r.StreamID, Seq: r.Seq,
		EventType: domain.EventType(r.EventType), State: eventstore.DeliveryState(r.State), Attempts: int(r.Attempts),
		NextAttemptAt: time.UnixMicro(r.NextAttemptAt).UTC(), CreatedAt: time.UnixMicro(r.CreatedAt).UTC(), UpdatedAt: time.UnixMicro(r.UpdatedAt).UTC(),
		LastStatus: int(r.LastStatus), LastError: r.LastError}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// WebhookDeliveryTenantsEnded implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryTenantsEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error) {
	ids, err := s.q.WebhookDeliveryTenantsEnded(ctx, s.rdb, dbsqlc.WebhookDeliveryTenantsEndedParams{EndedBefore: endedBefore.UnixMicro(), AfterTenantID: afterTenantID,
		MaxTenants: int64(max(1, min(limit, eventstore.MaxWebhookDeliveriesListed)))})
	if err != nil {
		return nil, fmt.Errorf("list tenants with ended webhook deliveries: %w", s.closedOr(err))
	}
	return ids, nil
}

// WebhookDeliveryPrune implements eventstore.WebhookDeliveryStore.
func (s *Store) WebhookDeliveryPrune(ctx context.Context, tenantID string, endedBefore time.Time) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		p := dbsqlc.WebhookAttemptDeleteEndedParams{TenantID: tenantID, EndedBefore: endedBefore.UnixMicro()}
		if err := s.q.WebhookAttemptDeleteEnded(ctx, tx, p); err != nil {
			return err
		}
		var err error
		n, err = s.q.WebhookDeliveryDeleteEnded(ctx, tx, dbsqlc.WebhookDeliveryDeleteEndedParams(p))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries of tenant %s: %w", tenantID, err)
	}
	return int(n), nil
}
