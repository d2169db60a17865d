package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// Webhook errors.
var (
	// ErrWebhookNotFound: no webhook endpoint with this id in the caller's
	// tenant (404), also when it is another tenant's or deleted.
	ErrWebhookNotFound = errors.New("webhook endpoint not found")
	// ErrTooManyWebhooks: the tenant has MaxWebhooksPerTenant endpoints (409).
	ErrTooManyWebhooks = fmt.Errorf("the tenant has %d webhook endpoints, the limit; delete unused ones first", MaxWebhooksPerTenant)
)

// Defaults and limits of webhooks.
const (
	// MaxWebhooksPerTenant bounds a tenant's endpoints (concurrent
	// creations may pass it by a few).
	MaxWebhooksPerTenant = 100
	// DefaultSecretOverlap is how long a rotated-out secret still signs
	// beside the new one.
	DefaultSecretOverlap = 24 * time.Hour
)

// WebhookSecrets keeps endpoints' signing secrets outside the log
// (eventstore.WebhookSecretStore has it).
type WebhookSecrets interface {
	WebhookSecretPut(ctx context.Context, webhookID, secretID string, secret []byte) error
	WebhookSecretDelete(ctx context.Context, webhookID string) error
}

// WebhookDeliveryLog reads and redelivers deliveries
// (eventstore.WebhookDeliveryStore has it).
type WebhookDeliveryLog interface {
	WebhookDeliveryList(ctx context.Context, webhookID string, beforePosition int64, limit int) ([]eventstore.WebhookDelivery, error)
	WebhookAttemptList(ctx context.Context, deliveryIDs []string) (map[string][]eventstore.WebhookAttempt, error)
	WebhookDeliveryRetry(ctx context.Context, webhookID, id string, since, now time.Time) (int, error)
}

// WebhookConfig configures NewWebhookHandlers.
type WebhookConfig struct {
	// Store keeps the webhook streams; required.
	Store IdentityStore
	// Secrets keeps the signing secrets; required.
	Secrets WebhookSecrets
	// Deliveries is the delivery log; required.
	Deliveries WebhookDeliveryLog
	// NewSecretFunc makes a signing key (webhooks.NewSecret); required.
	NewSecretFunc func() ([]byte, error)
	// CheckURLFunc refuses URLs deliveries may not go to, with a
	// *domain.ValidationError of field "url" (webhooks.Guard.CheckURL);
	// nil refuses none.
	CheckURLFunc func(*url.URL) error
	// AllowHTTP accepts http:// URLs besides https:// (dev, tests).
	AllowHTTP bool
	// SecretOverlap is how long a rotated-out secret still signs (default
	// DefaultSecretOverlap).
	SecretOverlap time.Duration
	// NowFunc gives the time (default time.Now).
	NowFunc func() time.Time
}

// webhookDeps is what the webhook handlers share. It is safe for
// concurrent use.
type webhookDeps struct {
	cfg WebhookConfig
	w   Writer
}

// WebhookInfo describes a webhook endpoint; it never holds a secret.
type WebhookInfo struct {
	ID       string
	Settings domain.WebhookSettings
	// DisabledReason says why the endpoint was disabled without a request.
	DisabledReason string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func webhookInfo(id string, w *domain.Webhook) WebhookInfo {
	return WebhookInfo{ID: id, Settings: w.Settings(), DisabledReason: w.DisabledReason(), CreatedBy: w.CreatedBy(), CreatedAt: w.CreatedAt(), UpdatedAt: w.UpdatedAt()}
}

// WebhookSecret is a signing secret made by CreateWebhook or
// RotateWebhookSecret, shown that once.
type WebhookSecret struct {
	// Key is the secret's bytes (webhooks.FormatSecret renders them).
	Key []byte
	// PreviousValidUntil is, after a rotation, until when the previous
	// secret signs beside this one.
	PreviousValidUntil time.Time
}

// WebhookResult is an endpoint a command made or changed, with the secret
// it made, if any.
type WebhookResult struct {
	Info   WebhookInfo
	Secret WebhookSecret
}

// WebhookHandlers are the handlers of the webhook commands and queries,
// each of the one shape Handler[C, R]. Build them with NewWebhookHandlers
// and decorate them once where they are wired (Decorated).
type WebhookHandlers struct {
	Create       Handler[CreateWebhook, WebhookResult]
	Change       Handler[ChangeWebhook, WebhookResult]
	RotateSecret Handler[RotateWebhookSecret, WebhookResult]
	Delete       Handler[DeleteWebhook, struct{}]
	Redeliver    Handler[RedeliverWebhook, int]
	SendTest     Handler[SendTestEvent, uuid.UUID]
	// The queries.
	List       Handler[ListWebhooks, []WebhookInfo]
	Get        Handler[GetWebhook, WebhookInfo]
	Deliveries Handler[ListWebhookDeliveries, []DeliveryInfo]
}

// NewWebhookHandlers returns the webhook handlers. It fails when cfg, with
// its defaults, cannot work.
func NewWebhookHandlers(cfg WebhookConfig) (WebhookHandlers, error) {
	if cfg.SecretOverlap == 0 {
		cfg.SecretOverlap = DefaultSecretOverlap
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Store == nil || cfg.Secrets == nil || cfg.Deliveries == nil || cfg.NewSecretFunc == nil || cfg.SecretOverlap < 0 {
		return WebhookHandlers{}, errors.New("webhook config: Store, Secrets, Deliveries and NewSecretFunc are required, SecretOverlap not negative")
	}
	d := &webhookDeps{cfg: cfg, w: Writer{Store: cfg.Store, NowFunc: cfg.NowFunc}}
	return WebhookHandlers{
		Create:       &CreateWebhookHandler{d},
		Change:       &ChangeWebhookHandler{d},
		RotateSecret: &RotateWebhookSecretHandler{d},
		Delete:       &DeleteWebhookHandler{d},
		Redeliver:    &RedeliverWebhookHandler{d},
		SendTest:     &SendTestEventHandler{d},
		List:         &ListWebhooksHandler{d},
		Get:          &GetWebhookHandler{d},
		Deliveries:   &ListWebhookDeliveriesHandler{d},
	}, nil
}

// Decorated returns h with every handler wrapped by Decorate with logger
// and metrics. Call it once, where the handlers are wired.
func (h WebhookHandlers) Decorated(logger *slog.Logger, metrics MetricsClient) WebhookHandlers {
	return WebhookHandlers{
		Create:       Decorate(h.Create, logger, metrics),
		Change:       Decorate(h.Change, logger, metrics),
		RotateSecret: Decorate(h.RotateSecret, logger, metrics),
		Delete:       Decorate(h.Delete, logger, metrics),
		Redeliver:    Decorate(h.Redeliver, logger, metrics),
		SendTest:     Decorate(h.SendTest, logger, metrics),
		List:         Decorate(h.List, logger, metrics),
		Get:          Decorate(h.Get, logger, metrics),
		Deliveries:   Decorate(h.Deliveries, logger, metrics),
	}
}

// Validate reports the first handler of h that is nil, as an error naming
// it; nil when h is complete.
func (h WebhookHandlers) Validate() error {
	return firstNil(h, "webhook handlers", "NewWebhookHandlers")
}

// checkSettings validates settings as the domain does, then asks
// CheckURLFunc whether deliveries may go to the URL.
func (d *webhookDeps) checkSettings(s domain.WebhookSettings) error {
	if err := s.Validate(d.cfg.AllowHTTP); err != nil {
		return err
	}
	if d.cfg.CheckURLFunc == nil {
		return nil
	}
	u, _ := url.Parse(s.URL) // Validate parsed it
	return d.cfg.CheckURLFunc(u)
}

// load loads the endpoint id of by's tenant: ErrWebhookNotFound when there
// is none (another tenant's, deleted, or no endpoint at all).
func (d *webhookDeps) load(ctx context.Context, by Principal, id string) (*domain.Webhook, eventstore.Stream, error) {
	stream := eventstore.Stream{ID: id, Type: domain.StreamWebhook, TenantID: by.TenantID}
	if err := domain.ValidateIdentifier("id", id); err != nil {
		return nil, stream, ErrWebhookNotFound
	}
	var w domain.Webhook
	if err := Load(ctx, d.w.Store, stream, &w); err != nil {
		return nil, stream, err
	}
	if !w.Exists() {
		return nil, stream, ErrWebhookNotFound
	}
	return &w, stream, nil
}

// newSecret makes a signing key and stores it under a new id for endpoint
// id, before the event that names it is appended.
func (d *webhookDeps) newSecret(ctx context.Context, id string) (secretID string, key []byte, err error) {
	key, err = d.cfg.NewSecretFunc()
	if err != nil {
		return "", nil, err
	}
	sid, err := uuid.NewV7()
	if err != nil {
		return "", nil, fmt.Errorf("new secret id: %w", err)
	}
	if err := d.cfg.Secrets.WebhookSecretPut(ctx, id, sid.String(), key); err != nil {
		return "", nil, fmt.Errorf("store the signing secret: %w", err)
	}
	return sid.String(), key, nil
}

// endpoints loads up to MaxWebhooksPerTenant endpoints of a tenant, oldest
// id first.
func (d *webhookDeps) endpoints(ctx context.Context, tenantID string) ([]WebhookInfo, error) {
	var out []WebhookInfo
	after := ""
	for len(out) < MaxWebhooksPerTenant {
		ids, err := d.cfg.Store.ListStreams(ctx, tenantID, domain.StreamWebhook, after, 0)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			var w domain.Webhook
			if err := Load(ctx, d.w.Store, eventstore.Stream{ID: id, Type: domain.StreamWebhook, TenantID: tenantID}, &w); err != nil {
				return nil, err
			}
			if w.Exists() {
				out = append(out, webhookInfo(id, &w))
			}
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}
