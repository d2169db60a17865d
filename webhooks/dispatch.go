package webhooks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// DispatchName names the dispatcher's checkpoint. It never changes:
// renaming it would dispatch the whole feed again.
const DispatchName = "webhook_dispatch"

// DispatchStore is what the Dispatcher needs of the store
// (eventstore.WebhookDeliveryStore has it).
type DispatchStore interface {
	WebhookDispatchCheckpoint(ctx context.Context, name string) (int64, error)
	WebhookDispatchApply(ctx context.Context, name string, from, to int64, endpoints []eventstore.WebhookEndpoint, deliveries []eventstore.WebhookDelivery) error
	WebhookEndpointList(ctx context.Context) ([]eventstore.WebhookEndpoint, error)
}

// Dispatcher turns the feed into deliveries: for each event, one delivery
// to each active endpoint of the event's tenant whose filter takes its
// type (a webhook.test_requested event to its own endpoint alone), stored with the dispatcher's checkpoint in one transaction. It
// learns the endpoints from the webhook events in the same feed, so a
// delivery is queued exactly for the endpoints as they were when the event
// committed. Run it with a projections.Runner (it is a
// projections.Projection); runners in several processes are safe, since a
// batch is stored only at the checkpoint it was read from. Safe for
// concurrent use.
type Dispatcher struct {
	store   DispatchStore
	nowFunc func() time.Time
	// queued, when set, is called after a batch stored deliveries.
	queued func()

	mu sync.Mutex
	// endpoints by tenant, then webhook id; nil until loaded, and again
	// after a failed batch (another dispatcher may have moved on).
	endpoints map[string]map[string]eventstore.WebhookEndpoint
}

// NewDispatcher returns a dispatcher on store; queued, if not nil, is
// called after each batch that stored deliveries (Sender.Nudge), nowFunc
// (default time.Now) dates them.
func NewDispatcher(store DispatchStore, queued func(), nowFunc func() time.Time) *Dispatcher {
	if nowFunc == nil {
		nowFunc = time.Now
	}
	return &Dispatcher{store: store, queued: queued, nowFunc: nowFunc}
}

// Name returns DispatchName.
func (d *Dispatcher) Name() string { return DispatchName }

// Checkpoint returns the next feed position the dispatcher reads.
func (d *Dispatcher) Checkpoint(ctx context.Context) (int64, error) {
	return d.store.WebhookDispatchCheckpoint(ctx, DispatchName)
}

// Reset refuses: dispatching the feed again would deliver every event
// again, to receivers that have them.
func (d *Dispatcher) Reset(context.Context) error {
	return errors.New("the webhook dispatch is never rebuilt: it would deliver every event again; redeliver through the API instead")
}

// Apply queues the deliveries of events (positions from, from+1, …) and
// moves the checkpoint past them, in one transaction.
func (d *Dispatcher) Apply(ctx context.Context, from int64, events []domain.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.endpoints == nil {
		if err := d.load(ctx); err != nil {
			return err
		}
	}
	// Copy on write: only a tenant whose endpoints change in this batch
	// gets a new map, so a batch without webhook events copies the outer
	// map alone, and a failed batch leaves d.endpoints as it was.
	work := maps.Clone(d.endpoints)
	copied := map[string]bool{}
	now := domain.NormalizeTime(d.nowFunc())
	changed := map[string]eventstore.WebhookEndpoint{}
	var deliveries []eventstore.WebhookDelivery
	for i := range events {
		e := &events[i]
		for _, ep := range work[e.TenantID] {
			if ep.Active && (domain.EventFilter(ep.Events).Match(e.Type) || (e.Type == domain.WebhookTestRequestedType && e.StreamID == ep.WebhookID)) {
				deliveries = append(deliveries, eventstore.WebhookDelivery{ID: DeliveryID(ep.WebhookID, e.EventID), WebhookID: ep.WebhookID, TenantID: e.TenantID,
					Position: e.Position, StreamID: e.StreamID, Seq: e.Seq, EventType: e.Type, NextAttemptAt: now, CreatedAt: now})
			}
		}
		if ep, ok := foldEndpoint(work[e.TenantID][e.StreamID], e); ok {
			if !copied[e.TenantID] {
				work[e.TenantID] = maps.Clone(work[e.TenantID])
				if work[e.TenantID] == nil {
					work[e.TenantID] = map[string]eventstore.WebhookEndpoint{}
				}
				copied[e.TenantID] = true
			}
			work[e.TenantID][e.StreamID], changed[e.StreamID] = ep, ep
		}
	}
	err := d.store.WebhookDispatchApply(ctx, DispatchName, from, from+int64(len(events)), slices.Collect(maps.Values(changed)), deliveries)
	if err != nil {
		d.endpoints = nil
		return err
	}
	d.endpoints = work
	if len(deliveries) > 0 && d.queued != nil {
		d.queued()
	}
	return nil
}

func (d *Dispatcher) load(ctx context.Context) error {
	eps, err := d.store.WebhookEndpointList(ctx)
	if err != nil {
		return fmt.Errorf("load webhook endpoints: %w", err)
	}
	d.endpoints = map[string]map[string]eventstore.WebhookEndpoint{}
	for _, ep := range eps {
		if d.endpoints[ep.TenantID] == nil {
			d.endpoints[ep.TenantID] = map[string]eventstore.WebhookEndpoint{}
		}
		d.endpoints[ep.TenantID][ep.WebhookID] = ep
	}
	return nil
}

// foldEndpoint returns ep as the webhook event e leaves it, and whether e
// is a webhook event that changes it. A pruned payload changes nothing.
func foldEndpoint(ep eventstore.WebhookEndpoint, e *domain.Event) (eventstore.WebhookEndpoint, bool) {
	if e.StreamType != domain.StreamWebhook || e.Payload == nil {
		return ep, false
	}
	p, err := domain.Decode(e.Type, e.Payload)
	if err != nil {
		return ep, false
	}
	ep.WebhookID, ep.TenantID = e.StreamID, e.TenantID
	switch p := p.(type) {
	case *domain.WebhookCreated:
		ep.Events, ep.Active = p.Events, p.Enabled
	case *domain.WebhookChanged:
		ep.Events, ep.Active = p.Events, p.Enabled
	case *domain.WebhookDisabled, *domain.WebhookDeleted:
		ep.Active = false
	default:
		return ep, false
	}
	return ep, true
}

// deliveryNamespace is the UUIDv5 namespace of delivery ids. It never
// changes: a delivery's id must stay what receivers de-duplicate by.
var deliveryNamespace = uuid.MustParse("5f0c1a8e-3f44-4d1e-9a55-0b8f4d2e7c61")

// DeliveryID returns the webhook-id of the delivery of event eventID to
// endpoint webhookID: "msg_" and 32 hex digits, the same on every attempt
// and every redelivery, so receivers can de-duplicate.
func DeliveryID(webhookID string, eventID uuid.UUID) string {
	id := uuid.NewSHA1(deliveryNamespace, []byte(webhookID+"\x00"+eventID.String()))
	return "msg_" + strings.ReplaceAll(id.String(), "-", "")
}
