package readapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/ratelimit"
	"github.com/axontask/axontask/readapi/internal/sse"
	"github.com/axontask/axontask/usage"
)

// Defaults and limits of Config and the endpoints.
const (
	// DefaultPingInterval is how long a stream stays silent before it
	// writes a ": ping" comment.
	DefaultPingInterval = 15 * time.Second
	// DefaultRetry is the reconnection delay a stream suggests to clients.
	DefaultRetry = 2 * time.Second
	// DefaultWriteTimeout is how long a stream's client may take to accept
	// one write before the stream is closed.
	DefaultWriteTimeout = 10 * time.Second
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes = 1 << 20
	// DefaultEventsLimit and MaxEventsLimit bound a /v1 events page.
	DefaultEventsLimit = 100
	MaxEventsLimit     = 1000
)

// Store is what readapi needs of the event store (eventstore.Store has it).
type Store interface {
	// ReadStream returns up to limit events of a stream with seq > afterSeq,
	// in seq order; an unknown stream yields none.
	ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error)
}

// Authenticator resolves callers' bearer credentials to principals
// (*commands.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (commands.Principal, error)
}

// Config configures the handler New returns.
type Config struct {
	// Store is read for statuses and events; required.
	Store Store
	// Hub hands live events to streams; required, subscribed before the
	// handler serves.
	Hub *Hub
	// Start and Cancel handle the write endpoints; required.
	Start  commands.Handler[commands.StartTask, commands.StartTaskResult]
	Cancel commands.Handler[commands.CancelTask, commands.CancelTaskResult]
	// StartBatch handles POST /v1/tasks/batch; optional (without it the
	// route answers 404).
	StartBatch commands.Handler[commands.StartTasks, commands.StartTasksResult]
	// Authenticator authenticates callers; required.
	Authenticator Authenticator
	// Identity serves /v1/auth, /v1/api-keys and /v1/members; every
	// handler required (commands.NewIdentityHandlers).
	Identity commands.IdentityHandlers
	// RateLimiter counts requests (default an in-process ratelimit.Memory;
	// give every API process the same ratelimit.Redis so limits hold across
	// them).
	RateLimiter ratelimit.Limiter
	// RequestLimit bounds each credential's requests (default
	// DefaultRequestLimit); AuthLimit each client address's requests to
	// /v1/auth (default DefaultAuthLimit).
	RequestLimit ratelimit.Limit
	AuthLimit    ratelimit.Limit
	// CORSOrigins are the browser origins allowed to call the API
	// (scheme://host[:port], or "*" for any); none by default.
	CORSOrigins []string
	// TokenKey is the secret resume tokens are signed from: their
	// HMAC-SHA256 key is derived from it (auth.ResumeTokenKey), apart from
	// the access tokens' keys, so the secret those come from (JWT_SECRET)
	// may serve here too. Required, auth.MinSecretLength bytes to 1 KiB.
	// Changing it invalidates every resume token issued.
	TokenKey []byte
	// PingInterval is how long a stream stays silent before a ping comment
	// (default DefaultPingInterval).
	PingInterval time.Duration
	// WriteTimeout bounds one write to a stream's client (default
	// DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Logger receives errors the API could not answer otherwise (5xx); it
	// never gets request bodies or tokens (default slog.Default()).
	Logger *slog.Logger
	// Tasks serves GET /v1/tasks from the task list read model; optional
	// (without it the route answers 404).
	Tasks TaskLister
	// Log serves /v1/log and task receipts; optional (without it those
	// routes answer 404).
	Log TransparencyLog
	// ReceiptsFunc reports whether a tenant's plan includes receipts
	// (default: every plan).
	ReceiptsFunc func(ctx context.Context, tenantID string) (bool, error)
	// Feed serves GET /v1/events, the tenant's slice of the feed; optional
	// (without it the route answers 404).
	Feed TenantFeedReader
	// Webhooks serves /v1/webhooks; optional (without it the routes answer
	// 404), every handler required when Create is set
	// (commands.NewWebhookHandlers).
	Webhooks commands.WebhookHandlers
	// Secrets serves /v1/secrets; optional (without it the routes answer
	// 404), every handler required when Set is set
	// (commands.NewSecretHandlers).
	Secrets commands.SecretHandlers
	// Meter counts the SSE streams each tenant opens and the bytes they
	// send; optional (nil counts nothing). Run it beside the handler.
	Meter *usage.Meter
	// Usage serves GET /v1/usage from the usage counters read model;
	// optional (without it the route answers 404).
	Usage projections.UsageStore
	// Billing serves GET /v1/billing; optional (without it the route
	// answers 404).
	Billing BillingViews
	// Stripe serves POST /v1/billing/checkout, /v1/billing/portal and
	// /v1/billing/stripe/webhook; nil when billing is off (the routes
	// answer 404).
	Stripe StripeBilling
	// NowFunc is the clock that a daily quota's Retry-After counts from;
	// give it the one Start's quotas use (default time.Now).
	NowFunc func() time.Time
	// StreamFunc, when set, is called when an SSE stream starts, with its
	// kind ("task": a task's events; "tenant": GET /v1/events), and
	// returns the function called when it ends (metrics.Registry's
	// StreamOpened). It must be quick.
	StreamFunc func(kind string) (ended func())
	// RateLimitedFunc, when set, is called for each request refused 429
	// by a rate limit, with the limit's kind: "request" (a credential's
	// requests), "auth" (an address's /v1/auth requests), "token" (an
	// address's resume-token requests) or "keys" (an address's /v1/log
	// key requests) (metrics.Registry's RateLimited). It must be quick.
	RateLimitedFunc func(kind string)
}

func (c Config) withDefaults() Config {
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RateLimiter == nil {
		c.RateLimiter = ratelimit.NewMemory(nil)
	}
	if c.RequestLimit == (ratelimit.Limit{}) {
		c.RequestLimit = DefaultRequestLimit
	}
	if c.AuthLimit == (ratelimit.Limit{}) {
		c.AuthLimit = DefaultAuthLimit
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	if c.StreamFunc == nil {
		c.StreamFunc = func(string) func() { return func() {} }
	}
	if c.RateLimitedFunc == nil {
		c.RateLimitedFunc = func(string) {}
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("readapi config: Store is nil")
	case c.Hub == nil:
		return errors.New("readapi config: Hub is nil")
	case c.Start == nil:
		return errors.New("readapi config: Start is nil")
	case c.Cancel == nil:
		return errors.New("readapi config: Cancel is nil")
	case c.Authenticator == nil:
		return errors.New("readapi config: Authenticator is nil; pass one that authenticates callers")
	case c.PingInterval < 0:
		return fmt.Errorf("readapi config: PingInterval is %s; it must be positive", c.PingInterval)
	case c.WriteTimeout < 0:
		return fmt.Errorf("readapi config: WriteTimeout is %s; it must be positive", c.WriteTimeout)
	}
	if err := c.Identity.Validate(); err != nil {
		return fmt.Errorf("readapi config: %w", err)
	}
	if c.Webhooks.Create != nil {
		if err := c.Webhooks.Validate(); err != nil {
			return fmt.Errorf("readapi config: %w", err)
		}
	}
	if c.Secrets.Set != nil {
		if err := c.Secrets.Validate(); err != nil {
			return fmt.Errorf("readapi config: %w", err)
		}
	}
	return validateOrigins(c.CORSOrigins)
}

// api holds the handlers' collaborators. It is safe for concurrent use.
type api struct {
	cfg     Config
	tokens  tokenSigner
	streams *sse.Server
	// storeDown and limiterDown log the outages of the store and of the
	// rate limiter's Redis: once when they begin, once when they end.
	storeDown, limiterDown *backoff.Retry
}

// New returns the HTTP handler of the endpoints of docs/api.md.
// It fails when cfg, with its defaults, cannot work. The handler is safe for
// concurrent use.
func New(cfg Config) (http.Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key, err := auth.ResumeTokenKey(cfg.TokenKey)
	if err != nil {
		return nil, fmt.Errorf("readapi config: %w", err)
	}
	a := &api{cfg: cfg, tokens: tokenSigner{key: key},
		storeDown:   &backoff.Retry{Dependency: backoff.DependencyStore, What: "readapi: requests that need the store", Meanwhile: "they answer 503", Logger: cfg.Logger},
		limiterDown: &backoff.Retry{Dependency: backoff.DependencyBus, What: "readapi: rate limiter", Meanwhile: "requests are let through", Logger: cfg.Logger},
		streams: sse.NewServer(sse.ServerConfig{
			Hub: cfg.Hub, Store: cfg.Store, Retry: DefaultRetry, PingInterval: cfg.PingInterval, WriteTimeout: cfg.WriteTimeout, Logger: cfg.Logger,
		})}
	r := chi.NewRouter()
	r.Use(withRequestID, securityHeaders, cors(cfg.CORSOrigins))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { a.writeError(w, r, errNoRoute) })
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
			if r.Match(chi.NewRouteContext(), m, req.URL.Path) {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.writeError(w, req, errMethod)
	})
	// Every route but the streams: who may call it, its status, its call.
	r.Post("/mcp/start_task", serveJSON(a, a.as(domain.ActionWriteTasks), http.StatusCreated, a.startTask))
	r.Post("/v1/tasks/batch", serveJSON(a, a.batchStarter, http.StatusCreated, a.startTasks))
	r.Get("/mcp/tasks/{id}/status", serveJSON(a, selfChecked, http.StatusOK, a.status))
	r.Post("/mcp/tasks/{id}/cancel", serveJSON(a, a.taskAs(domain.ActionWriteTasks), http.StatusOK, a.cancel))
	r.Get("/mcp/tasks/{id}/stream", a.stream)
	r.Post("/mcp/tasks/{id}/resume", a.resume)
	r.Get("/v1/tasks/{id}/events", serveJSON(a, selfChecked, http.StatusOK, a.events))
	r.Get("/v1/tasks", serveJSON(a, a.taskListReader, http.StatusOK, a.listTasks))
	r.Post("/v1/auth/register", serveJSON(a, a.anonymous, http.StatusCreated, a.register))
	r.Post("/v1/auth/login", serveJSON(a, a.anonymous, http.StatusOK, a.login))
	r.Post("/v1/auth/refresh", serveJSON(a, a.anonymous, http.StatusOK, a.refresh))
	r.Post("/v1/auth/logout", serveJSON(a, a.anonymous, http.StatusNoContent, a.logout))
	r.Post("/v1/api-keys", serveJSON(a, a.as(domain.ActionManageOwnKeys), http.StatusCreated, a.createAPIKey))
	r.Get("/v1/api-keys", serveJSON(a, a.as(domain.ActionManageOwnKeys), http.StatusOK, a.listAPIKeys))
	r.Delete("/v1/api-keys/{id}", serveJSON(a, a.as(domain.ActionManageOwnKeys), http.StatusNoContent, a.revokeAPIKey))
	r.Post("/v1/members", serveJSON(a, a.as(domain.ActionManageMembers), http.StatusAccepted, a.inviteMember))
	r.Get("/v1/members/invitations", serveJSON(a, a.as(domain.ActionManageMembers), http.StatusOK, a.listInvitations))
	r.Delete("/v1/members/invitations/{id}", serveJSON(a, a.as(domain.ActionManageMembers), http.StatusNoContent, a.revokeInvitation))
	r.Get("/v1/invitations", serveJSON(a, a.as(domain.ActionReadTasks), http.StatusOK, a.listMyInvitations))
	r.Post("/v1/invitations/{id}/accept", serveJSON(a, a.as(domain.ActionReadTasks), http.StatusOK, a.acceptInvitation))
	r.Post("/v1/invitations/{id}/decline", serveJSON(a, a.as(domain.ActionReadTasks), http.StatusNoContent, a.declineInvitation))
	r.Get("/v1/members", serveJSON(a, a.as(domain.ActionReadTasks), http.StatusOK, a.listMembers))
	r.Patch("/v1/members/{user_id}", serveJSON(a, a.as(domain.ActionManageMembers), http.StatusOK, a.changeMemberRole))
	r.Delete("/v1/members/{user_id}", serveJSON(a, a.as(domain.ActionManageMembers), http.StatusNoContent, a.removeMember))
	r.Get("/mcp/tasks/{id}/receipt", serveJSON(a, a.taskAs(domain.ActionReadTasks), http.StatusOK, a.receipt))
	r.Get("/v1/log/checkpoint", a.checkpoint)
	r.Get("/v1/log/keys", serveJSON(a, a.anonymousKeys, http.StatusOK, a.logKeys))
	r.Get("/.well-known/axontask-log-keys", serveJSON(a, a.anonymousKeys, http.StatusOK, a.logKeys))
	r.Get("/v1/log/proof/inclusion", serveJSON(a, a.as(domain.ActionReadTasks), http.StatusOK, a.inclusionProof))
	r.Get("/v1/log/proof/consistency", serveJSON(a, a.as(domain.ActionReadTasks), http.StatusOK, a.consistencyProof))
	r.Get("/v1/events", a.tenantEvents)
	r.Post("/v1/webhooks", serveJSON(a, a.webhookManager, http.StatusCreated, a.createWebhook))
	r.Get("/v1/webhooks", serveJSON(a, a.webhookManager, http.StatusOK, a.listWebhooks))
	r.Get("/v1/webhooks/{id}", serveJSON(a, a.webhookManager, http.StatusOK, a.getWebhook))
	r.Patch("/v1/webhooks/{id}", serveJSON(a, a.webhookManager, http.StatusOK, a.changeWebhook))
	r.Delete("/v1/webhooks/{id}", serveJSON(a, a.webhookManager, http.StatusNoContent, a.deleteWebhook))
	r.Post("/v1/webhooks/{id}/rotate-secret", serveJSON(a, a.webhookManager, http.StatusOK, a.rotateWebhookSecret))
	r.Get("/v1/webhooks/{id}/deliveries", serveJSON(a, a.webhookManager, http.StatusOK, a.listWebhookDeliveries))
	r.Post("/v1/webhooks/{id}/redeliver", serveJSON(a, a.webhookManager, http.StatusAccepted, a.redeliverWebhook))
	r.Post("/v1/webhooks/{id}/test", serveJSON(a, a.webhookManager, http.StatusAccepted, a.sendTestEvent))
	r.Post("/v1/secrets", serveJSON(a, a.secretManager, http.StatusCreated, a.setSecret))
	r.Get("/v1/secrets", serveJSON(a, a.secretManager, http.StatusOK, a.listSecrets))
	r.Delete("/v1/secrets/{name}", serveJSON(a, a.secretManager, http.StatusNoContent, a.deleteSecret))
	r.Get("/v1/usage", serveJSON(a, a.usageReader, http.StatusOK, a.usage))
	r.Get("/v1/billing", serveJSON(a, a.billingReader, http.StatusOK, a.billing))
	r.Post("/v1/billing/checkout", serveJSON(a, a.stripeOwner, http.StatusOK, a.checkout))
	r.Post("/v1/billing/portal", serveJSON(a, a.stripeOwner, http.StatusOK, a.portal))
	r.Post("/v1/billing/stripe/webhook", a.stripeWebhook)
	r.Get("/openapi.json", serveOpenAPI)
	return r, nil
}
