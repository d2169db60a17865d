// Package stripebilling connects AxonTask's plans to Stripe Billing, when
// BILLING_ENABLED is on: Checkout Sessions to subscribe a tenant to a
// plan, Customer Portal sessions to manage the subscription, and the
// webhook through which Stripe's subscription changes become the tenant's
// plan changes (docs/billing.md). With billing off nothing of this package
// is built, and no call to Stripe is ever made.
package stripebilling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v85"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// DefaultTolerance is how old a webhook's signature timestamp may be.
const DefaultTolerance = 5 * time.Minute

// DefaultGracePeriod is how long a tenant whose payment failed may still
// start tasks.
const DefaultGracePeriod = 7 * 24 * time.Hour

// Errors the API maps to answers.
var (
	// ErrNoPrice: the plan has no Stripe price configured (400 on plan).
	ErrNoPrice = errors.New("no Stripe price is configured for this plan")
	// ErrNoCustomer: the tenant has no Stripe customer yet (409).
	ErrNoCustomer = errors.New("the tenant has no Stripe customer yet; subscribe to a plan first (POST /v1/billing/checkout)")
	// ErrBadSignature: a webhook whose signature or timestamp does not
	// verify (400).
	ErrBadSignature = errors.New("the Stripe-Signature does not verify")
	// ErrStripe: a call to Stripe failed (502); the error wrapping it says
	// which.
	ErrStripe = errors.New("the payment provider (Stripe) did not answer as expected; try again")
)

// Config configures a Service.
type Config struct {
	// SecretKey is the Stripe API key (sk_…); required.
	SecretKey string
	// WebhookSecret is the webhook endpoint's signing secret (whsec_…);
	// required.
	WebhookSecret string
	// PriceIDs are the Stripe prices of the plans one may subscribe to.
	PriceIDs map[domain.PlanName]string
	// FallbackPlan is the plan a tenant goes back to when its
	// subscription ends (canceled, unpaid).
	FallbackPlan domain.PlanName
	// SuccessURL, CancelURL: where Checkout sends the customer back;
	// ReturnURL: where the Customer Portal does. Required.
	SuccessURL, CancelURL, ReturnURL string
	// APIURL replaces Stripe's API address (a stripe-mock, in tests).
	APIURL string
	// HTTPClient makes the calls to Stripe (default a client with a 30 s
	// timeout).
	HTTPClient *http.Client
	// Tolerance bounds a webhook's age (default DefaultTolerance).
	Tolerance time.Duration
	// GracePeriod is how long a tenant whose payment failed may still
	// start tasks (default DefaultGracePeriod).
	GracePeriod time.Duration
	// Store reads and appends the tenants' and billing streams; required.
	Store commands.StreamStore
	// Logger receives the webhooks that change nothing (default
	// slog.Default()); never a secret.
	Logger *slog.Logger
}

// Service is the Stripe side of billing. It is safe for concurrent use.
type Service struct {
	cfg         Config
	sc          *stripe.Client
	setPlan     *commands.SetPlanHandler
	setCustomer *commands.SetBillingCustomerHandler
	// recordPayment records invoices paid and payments failed.
	recordPayment *commands.RecordPaymentHandler
	plans         map[string]domain.PlanName // Stripe price id → plan
}

// New returns the Stripe side of billing; it fails when cfg cannot work.
func New(cfg Config) (*Service, error) {
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	switch {
	case cfg.SecretKey == "" || cfg.WebhookSecret == "":
		return nil, errors.New("stripe billing config: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or turn BILLING_ENABLED off")
	case cfg.SuccessURL == "" || cfg.CancelURL == "" || cfg.ReturnURL == "":
		return nil, errors.New("stripe billing config: set BILLING_SUCCESS_URL, BILLING_CANCEL_URL and BILLING_RETURN_URL: where Stripe sends customers back")
	case cfg.Store == nil:
		return nil, errors.New("stripe billing config: Store is nil")
	}
	if _, err := domain.ParsePlanName(string(cfg.FallbackPlan)); err != nil {
		return nil, fmt.Errorf("stripe billing config: fallback plan: %w", err)
	}
	s := &Service{cfg: cfg, plans: make(map[string]domain.PlanName),
		setPlan: commands.NewSetPlanHandler(cfg.Store, nil), setCustomer: commands.NewSetBillingCustomerHandler(cfg.Store, nil),
		recordPayment: commands.NewRecordPaymentHandler(cfg.Store, nil)}
	for plan, price := range cfg.PriceIDs {
		s.plans[price] = plan
	}
	backend := &stripe.BackendConfig{HTTPClient: cfg.HTTPClient, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	if cfg.APIURL != "" {
		backend.URL = stripe.String(cfg.APIURL)
	}
	s.sc = stripe.NewClient(cfg.SecretKey, stripe.WithBackends(&stripe.Backends{
		API: stripe.GetBackendWithConfig(stripe.APIBackend, backend), Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, backend),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, backend), MeterEvents: stripe.GetBackendWithConfig(stripe.MeterEventsBackend, backend),
	}))
	return s, nil
}

// tenant loads tenantID's aggregate; one that does not exist is
// commands.ErrTenantNotFound.
func (s *Service) tenant(ctx context.Context, tenantID string) (*domain.Tenant, error) {
	var t domain.Tenant
	if err := commands.Load(ctx, s.cfg.Store, eventstore.Stream{ID: tenantID, Type: domain.StreamTenant, TenantID: tenantID}, &t); err != nil {
		return nil, err
	}
	if !t.Exists() {
		return nil, commands.ErrTenantNotFound
	}
	return &t, nil
}

// Checkout returns the URL of a Stripe Checkout Session that subscribes
// tenantID to plan. The tenant's Stripe customer is created on its first
// checkout, once (the creation's idempotency key is the tenant's id), and
// remembered as tenant.billing_customer_set.
func (s *Service) Checkout(ctx context.Context, tenantID string, plan domain.PlanName) (string, error) {
	price, ok := s.cfg.PriceIDs[plan]
	if !ok {
		return "", fmt.Errorf("plan %s: %w", plan, ErrNoPrice)
	}
	customer, err := s.customer(ctx, tenantID)
	if err != nil {
		return "", err
	}
	meta := map[string]string{"tenant_id": tenantID, "plan": string(plan)}
	params := &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModeSubscription)), Customer: stripe.String(customer),
		ClientReferenceID: stripe.String(tenantID), SuccessURL: stripe.String(s.cfg.SuccessURL), CancelURL: stripe.String(s.cfg.CancelURL),
		LineItems:        []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(1)}},
		SubscriptionData: &stripe.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta},
		Metadata:         meta,
	}
	session, err := s.sc.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("%w: create a checkout session: %w", ErrStripe, err)
	}
	return session.URL, nil
}

// Portal returns the URL of a Stripe Customer Portal session of
// tenantID's customer; a tenant without one is ErrNoCustomer.
func (s *Service) Portal(ctx context.Context, tenantID string) (string, error) {
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if t.BillingCustomer() == "" {
		return "", ErrNoCustomer
	}
	session, err := s.sc.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{
		Customer: stripe.String(t.BillingCustomer()), ReturnURL: stripe.String(s.cfg.ReturnURL),
	})
	if err != nil {
		return "", fmt.Errorf("%w: create a portal session: %w", ErrStripe, err)
	}
	return session.URL, nil
}

// customer returns tenantID's Stripe customer, creating it on the first
// call: with the tenant's id as idempotency key, so that concurrent or
// retried first checkouts get one customer.
func (s *Service) customer(ctx context.Context, tenantID string) (string, error) {
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if id := t.BillingCustomer(); id != "" {
		return id, nil
	}
	params := &stripe.CustomerCreateParams{Name: stripe.String(t.Name()), Metadata: map[string]string{"tenant_id": tenantID}}
	params.SetIdempotencyKey("axontask-customer-" + tenantID)
	c, err := s.sc.V1Customers.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("%w: create the customer: %w", ErrStripe, err)
	}
	if _, err := s.setCustomer.Handle(ctx, commands.SetBillingCustomer{TenantID: tenantID, CustomerID: c.ID, Meta: domain.Metadata{Actor: "billing"}}); err != nil {
		return "", err
	}
	return c.ID, nil
}
