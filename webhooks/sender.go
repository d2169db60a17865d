package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/backoff"
)

// Defaults of SenderConfig.
const (
	// DefaultTimeout is how long a receiver has to answer 2xx.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxConcurrent bounds the deliveries a Sender makes at once.
	DefaultMaxConcurrent = 32
	// DefaultPollInterval is how often a Sender looks for due deliveries
	// when nothing nudges it.
	DefaultPollInterval = time.Second
	// DefaultDisableAfter is how long every attempt to an endpoint may
	// fail before it is disabled.
	DefaultDisableAfter = 5 * 24 * time.Hour
)

// SenderStore is what a Sender needs of the store: the deliveries, the
// events they carry, the endpoints' streams and secrets.
type SenderStore interface {
	commands.StreamStore
	WebhookDeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]eventstore.WebhookDelivery, error)
	WebhookDeliveryRecord(ctx context.Context, a eventstore.WebhookAttempt, state eventstore.DeliveryState, nextAttemptAt, enabledAt time.Time) error
	WebhookEndpointFailingSince(ctx context.Context, webhookID string) (time.Time, error)
	WebhookSecretGet(ctx context.Context, webhookID string, secretIDs []string) (map[string][]byte, error)
}

// SenderConfig configures NewSender.
type SenderConfig struct {
	// Store holds the deliveries; required.
	Store SenderStore
	// Guard dials receivers; required.
	Guard *Guard
	// Timeout bounds one attempt (default DefaultTimeout).
	Timeout time.Duration
	// Schedule is the pause before each retry (default DefaultSchedule).
	Schedule []time.Duration
	// MaxConcurrent bounds the attempts in flight, over all endpoints
	// (default DefaultMaxConcurrent); each endpoint has at most one, so
	// that it gets its events in feed order.
	MaxConcurrent int
	// PollInterval is how often due deliveries are looked for (default
	// DefaultPollInterval); Nudge looks at once.
	PollInterval time.Duration
	// DisableAfter is how long every attempt to an endpoint may fail
	// before its next failed attempt disables it (default
	// DefaultDisableAfter).
	DisableAfter time.Duration
	// Logger receives the store's outages, once each (default
	// slog.Default()); deliveries' failures go to the delivery log only.
	Logger *slog.Logger
	// NowFunc is the clock (default time.Now).
	NowFunc func() time.Time
	// ObserveFunc, when set, is called after each attempt with the state
	// it left the delivery in (pending: it will be retried) and, for a
	// success, how long the event took from its commit (its occurred_at)
	// to the receiver's 2xx (metrics.Registry's WebhookAttempted). It must
	// be quick.
	ObserveFunc func(state eventstore.DeliveryState, delivered time.Duration)
}

// Sender makes the deliveries the Dispatcher queued: each endpoint's
// oldest pending one, when due, signed, through the Guard's client, and
// records every attempt. Senders in several processes share the work
// (claims never overlap). It is safe for concurrent use.
type Sender struct {
	cfg    SenderConfig
	client *http.Client
	w      commands.Writer
	nudge  chan struct{}
	slots  chan struct{}
}

// NewSender returns a sender; run it with Run.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = DefaultDisableAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.ObserveFunc == nil {
		cfg.ObserveFunc = func(eventstore.DeliveryState, time.Duration) {}
	}
	if cfg.Store == nil || cfg.Guard == nil || cfg.Timeout < 0 || cfg.MaxConcurrent < 1 || cfg.PollInterval < 0 {
		return nil, errors.New("webhook sender config: Store and Guard are required; Timeout, MaxConcurrent and PollInterval positive")
	}
	return &Sender{cfg: cfg, client: cfg.Guard.Client(cfg.Timeout), w: commands.Writer{Store: cfg.Store, NowFunc: cfg.NowFunc},
		nudge: make(chan struct{}, 1), slots: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

// Nudge makes Run look for due deliveries now (the Dispatcher queued some).
func (s *Sender) Nudge() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// Run makes deliveries until ctx ends, then waits for the attempts in
// flight and returns ctx's error.
func (s *Sender) Run(ctx context.Context) error {
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "webhooks: claim deliveries", Meanwhile: "deliveries wait", Logger: s.cfg.Logger}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		n, err := s.claim(ctx, &wg)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if err := retry.Failed(ctx, err); err != nil {
				return err
			}
			continue
		}
		retry.Succeeded()
		if n > 0 && len(s.slots) < cap(s.slots) {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.nudge:
		case <-time.After(s.cfg.PollInterval):
		}
	}
}

// claim claims as many due deliveries as slots are free and starts them.
func (s *Sender) claim(ctx context.Context, wg *sync.WaitGroup) (int, error) {
	free := cap(s.slots) - len(s.slots)
	if free == 0 {
		return 0, nil
	}
	now := s.cfg.NowFunc()
	// The lease outlasts an attempt, so that no other sender takes the
	// delivery while this one waits for the receiver.
	claimed, err := s.cfg.Store.WebhookDeliveryClaim(ctx, now, now.Add(2*s.cfg.Timeout+10*time.Second), free)
	if err != nil {
		return 0, err
	}
	for _, d := range claimed {
		s.slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliver(context.WithoutCancel(ctx), d)
			<-s.slots
			s.Nudge() // the endpoint's next delivery may be due now
		}()
	}
	return len(claimed), nil
}

// outcome is what became of one attempt.
type outcome struct {
	attempt eventstore.WebhookAttempt
	// committed is when the delivered event was committed (its
	// occurred_at); zero unless the receiver answered.
	committed time.Time
	// gone: the receiver answered 410, or the endpoint is disabled.
	gone bool
	// enabledAt is when the endpoint was last enabled (domain.Webhook's
	// EnabledAt); zero when it was not loaded.
	enabledAt time.Time
}

// deliver makes one attempt of d and records it. It runs to its end even
// when the sender stops: an attempt made and not recorded would be made
// again (which receivers tolerate, but need not see).
func (s *Sender) deliver(ctx context.Context, d eventstore.WebhookDelivery) {
	o := s.attempt(ctx, d)
	// A retry waits its pause after the attempt ended (a timeout included).
	ended := o.attempt.At.Add(o.attempt.Latency)
	state, next := eventstore.DeliveryPending, ended
	switch {
	case o.attempt.Error == "":
		state = eventstore.DeliverySucceeded
	case o.gone || d.Attempts >= len(s.cfg.Schedule):
		state = eventstore.DeliveryFailed
	default:
		next = ended.Add(jitter(s.cfg.Schedule[d.Attempts]))
	}
	// Before the delivery ends: the endpoint's next delivery must find it
	// disabled.
	switch {
	case o.gone && o.attempt.StatusCode == http.StatusGone:
		s.disable(ctx, d, o.enabledAt, "the receiver answered 410 Gone")
	case state != eventstore.DeliverySucceeded && !o.gone && s.failingFor(ctx, d, o.enabledAt, ended) >= s.cfg.DisableAfter:
		s.disable(ctx, d, o.enabledAt, "every delivery failed for "+lasting(s.cfg.DisableAfter))
	}
	if err := s.cfg.Store.WebhookDeliveryRecord(ctx, o.attempt, state, next, o.enabledAt); err != nil {
		// The claim lapses and the delivery is attempted again.
		s.cfg.Logger.WarnContext(ctx, "webhooks: record a delivery attempt", "delivery", d.ID, "err", err)
		return
	}
	s.cfg.ObserveFunc(state, ended.Sub(o.committed))
}

// attempt sends d once and says how it went.
func (s *Sender) attempt(ctx context.Context, d eventstore.WebhookDelivery) outcome {
	start := s.cfg.NowFunc()
	a := eventstore.WebhookAttempt{DeliveryID: d.ID, Attempt: d.Attempts + 1, At: start}
	var enabledAt time.Time // once the endpoint is loaded
	fail := func(gone bool, format string, args ...any) outcome {
		a.Error = fmt.Sprintf(format, args...)
		a.Latency = s.cfg.NowFunc().Sub(start)
		return outcome{attempt: a, gone: gone, enabledAt: enabledAt}
	}
	var w domain.Webhook
	if err := commands.Load(ctx, s.cfg.Store, eventstore.Stream{ID: d.WebhookID, Type: domain.StreamWebhook, TenantID: d.TenantID}, &w); err != nil {
		return fail(false, "load the endpoint: %v", err)
	}
	if !w.Exists() || !w.Settings().Enabled {
		return fail(true, "not sent: the endpoint is deleted or disabled")
	}
	enabledAt = w.EnabledAt()
	req, committed, err := s.request(ctx, d, &w, start)
	if err != nil {
		return fail(false, "%v", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fail(false, "%v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, eventstore.MaxWebhookResponseExcerpt))
	a.StatusCode, a.Response = resp.StatusCode, string(excerpt)
	a.Latency = s.cfg.NowFunc().Sub(start)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = "the receiver answered " + resp.Status + "; only 2xx is success"
	}
	return outcome{attempt: a, gone: resp.StatusCode == http.StatusGone, committed: committed, enabledAt: enabledAt}
}

// request builds the signed request of d to w's URL at now: the event's
// envelope as SSE sends it, signed by every secret that signs now; and
// returns when the event was committed.
func (s *Sender) request(ctx context.Context, d eventstore.WebhookDelivery, w *domain.Webhook, now time.Time) (*http.Request, time.Time, error) {
	events, err := s.cfg.Store.ReadStream(ctx, d.StreamID, d.Seq-1, 1)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the event %s/%d: %w", d.StreamID, d.Seq, err)
	}
	if len(events) == 0 {
		return nil, time.Time{}, fmt.Errorf("the event %s/%d is gone", d.StreamID, d.Seq)
	}
	e := events[0]
	e.Position = d.Position
	body, err := e.AppendJSON(nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	ids := w.SigningSecretIDs(now)
	secrets, err := s.cfg.Store.WebhookSecretGet(ctx, d.WebhookID, ids)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the signing secrets: %w", err)
	}
	var keys [][]byte
	for _, id := range ids {
		if k, ok := secrets[id]; ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, time.Time{}, errors.New("the endpoint's signing secret is gone")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Settings().URL, bytes.NewReader(body))
	if err != nil {
		return nil, time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "AxonTask-Webhooks/1")
	req.Header.Set(HeaderID, d.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(d.ID, now, body, keys...))
	return req, e.OccurredAt, nil
}

// failingFor returns how long, at now, every attempt to the endpoint of d
// has failed, this failed one included: since the first failure after its
// last success or after it was last enabled (enabledAt), as the store
// counts across all its deliveries (so that a redelivered old delivery
// does not make an endpoint that succeeds today look dead). Without a run
// that began at or after enabledAt, this failure begins one. An endpoint
// that could not be loaded (enabledAt zero), or an error of the store,
// counts as no failure at all.
func (s *Sender) failingFor(ctx context.Context, d eventstore.WebhookDelivery, enabledAt, now time.Time) time.Duration {
	if enabledAt.IsZero() {
		return 0
	}
	since, err := s.cfg.Store.WebhookEndpointFailingSince(ctx, d.WebhookID)
	if err != nil || since.IsZero() || since.Before(enabledAt) {
		return 0
	}
	return now.Sub(since)
}

// lasting formats d for the tenant who reads a disabled endpoint's
// reason: in days when d is several whole days ("5 days", not
// "120h0m0s"), else as Go writes durations.
func lasting(d time.Duration) string {
	const day = 24 * time.Hour
	if d > day && d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// disable appends webhook.disabled to the endpoint of d, for reason,
// unless it was enabled again after enabledAt (while the attempt that
// gave the reason was under way).
func (s *Sender) disable(ctx context.Context, d eventstore.WebhookDelivery, enabledAt time.Time, reason string) {
	stream := eventstore.Stream{ID: d.WebhookID, Type: domain.StreamWebhook, TenantID: d.TenantID}
	var w domain.Webhook
	err := commands.Load(ctx, s.cfg.Store, stream, &w)
	if err == nil {
		// Decided again on each conflict, so an enabling that lands
		// meanwhile is seen too.
		_, err = commands.Update(ctx, s.w, commands.Target{Stream: stream, Meta: domain.Metadata{Actor: "system"}}, &w, func(w *domain.Webhook) ([]domain.Payload, error) {
			if w.EnabledAt().After(enabledAt) {
				return nil, nil
			}
			return w.DecideDisable(reason), nil
		})
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "webhooks: disable an endpoint", "webhook", d.WebhookID, "err", err)
	}
}
