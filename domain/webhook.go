package domain

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Webhook errors.
var (
	// ErrWebhookDeleted: the endpoint was deleted; nothing may change it.
	ErrWebhookDeleted = errors.New("the webhook endpoint was deleted")
)

// WebhookSettings are what a tenant chooses for an endpoint.
type WebhookSettings struct {
	// URL is where deliveries go (see ParseWebhookURL).
	URL string
	// Events is the filter of the types delivered.
	Events EventFilter
	// Description is free text for the tenant, at most
	// MaxWebhookDescriptionLen bytes.
	Description string
	// Enabled says whether deliveries are made.
	Enabled bool
}

// Validate checks the settings, the URL with ParseWebhookURL(allowHTTP).
func (s WebhookSettings) Validate(allowHTTP bool) error {
	if _, err := ParseWebhookURL(s.URL, allowHTTP); err != nil {
		return err
	}
	if _, err := ParseEventFilter(s.Events); err != nil {
		return err
	}
	if len(s.Description) > MaxWebhookDescriptionLen {
		return &ValidationError{Field: "description", Reason: fmt.Sprintf("is %d bytes long; the limit is %d", len(s.Description), MaxWebhookDescriptionLen)}
	}
	return nil
}

// Webhook is the webhook endpoint aggregate. The zero value is an endpoint
// whose stream is empty.
type Webhook struct {
	seq            int64
	tenantID       string
	settings       WebhookSettings
	createdBy      string
	createdAt      time.Time
	secretID       string
	previousID     string
	previousUntil  time.Time
	disabledReason string
	enabledAt      time.Time
	deleted        bool
	updatedAt      time.Time
}

// NewWebhookCreated decides the first event of an endpoint: settings,
// validated (allowHTTP as for ParseWebhookURL), created by user by,
// signing with the secret stored under secretID.
func NewWebhookCreated(settings WebhookSettings, secretID, by string, allowHTTP bool) (*WebhookCreated, error) {
	if err := settings.Validate(allowHTTP); err != nil {
		return nil, err
	}
	events, _ := ParseEventFilter(settings.Events)
	return &WebhookCreated{CreatedBy: by, Description: settings.Description, Enabled: settings.Enabled, Events: events, SecretID: secretID, URL: settings.URL}, nil
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (w *Webhook) Seq() int64 { return w.seq }

// Exists reports whether the endpoint was created and not deleted.
func (w *Webhook) Exists() bool { return w.seq > 0 && !w.deleted }

// TenantID returns the tenant the endpoint belongs to.
func (w *Webhook) TenantID() string { return w.tenantID }

// Settings returns the endpoint's current settings.
func (w *Webhook) Settings() WebhookSettings { return w.settings }

// CreatedBy returns the user who created the endpoint.
func (w *Webhook) CreatedBy() string { return w.createdBy }

// CreatedAt returns when the endpoint was created.
func (w *Webhook) CreatedAt() time.Time { return w.createdAt }

// UpdatedAt returns when the endpoint last changed (its last event).
func (w *Webhook) UpdatedAt() time.Time { return w.updatedAt }

// EnabledAt is when the endpoint was last enabled: created enabled, or
// enabled again after being disabled. Failures before it do not count
// against the endpoint.
func (w *Webhook) EnabledAt() time.Time { return w.enabledAt }

// DisabledReason says why the endpoint was disabled without a request
// (410 Gone, failing for days); empty otherwise.
func (w *Webhook) DisabledReason() string { return w.disabledReason }

// SecretID returns the id of the secret that signs now.
func (w *Webhook) SecretID() string { return w.secretID }

// SigningSecretIDs returns the ids of the secrets that sign a delivery made
// at now: the current one, and during a rotation's overlap the one before
// it.
func (w *Webhook) SigningSecretIDs(now time.Time) []string {
	if w.previousID != "" && now.Before(w.previousUntil) {
		return []string{w.secretID, w.previousID}
	}
	return []string{w.secretID}
}

// Wants reports whether the endpoint takes deliveries of events of type t.
func (w *Webhook) Wants(t EventType) bool {
	return w.Exists() && w.settings.Enabled && w.settings.Events.Match(t)
}

// DecideChange returns the event that gives the endpoint settings, none
// when they are its current ones. A deleted endpoint is ErrWebhookDeleted.
func (w *Webhook) DecideChange(settings WebhookSettings, by string, allowHTTP bool) ([]Payload, error) {
	if w.deleted {
		return nil, ErrWebhookDeleted
	}
	if err := settings.Validate(allowHTTP); err != nil {
		return nil, err
	}
	settings.Events, _ = ParseEventFilter(settings.Events)
	cur := w.settings
	if cur.URL == settings.URL && cur.Description == settings.Description && cur.Enabled == settings.Enabled && slices.Equal(cur.Events, settings.Events) {
		return nil, nil
	}
	return []Payload{&WebhookChanged{ChangedBy: by, Description: settings.Description, Enabled: settings.Enabled, Events: settings.Events, URL: settings.URL}}, nil
}

// DecideRotateSecret returns the event that makes the secret stored under
// secretID sign from now on, the current one signing beside it for overlap
// more.
func (w *Webhook) DecideRotateSecret(secretID string, now time.Time, overlap time.Duration, by string) ([]Payload, error) {
	if w.deleted {
		return nil, ErrWebhookDeleted
	}
	return []Payload{&WebhookSecretRotated{PreviousValidUntil: FormatTime(now.Add(overlap)), RotatedBy: by, SecretID: secretID}}, nil
}

// DecideDisable returns the event that disables the endpoint for reason,
// none when it is disabled or deleted already.
func (w *Webhook) DecideDisable(reason string) []Payload {
	if w.deleted || !w.settings.Enabled {
		return nil
	}
	return []Payload{&WebhookDisabled{Reason: reason}}
}

// DecideTest returns the event that asks for a test delivery to the
// endpoint. A deleted endpoint is ErrWebhookDeleted; a disabled one gets
// the event, and no delivery.
func (w *Webhook) DecideTest(by string) ([]Payload, error) {
	if w.deleted {
		return nil, ErrWebhookDeleted
	}
	return []Payload{&WebhookTestRequested{RequestedBy: by}}, nil
}

// DecideDelete returns the event that deletes the endpoint, none when it
// is deleted already.
func (w *Webhook) DecideDelete(by string) []Payload {
	if w.deleted {
		return nil
	}
	return []Payload{&WebhookDeleted{DeletedBy: by}}
}

// Apply evolves the endpoint by one stored event.
func (w *Webhook) Apply(e Event) error {
	var allowed []EventType
	switch {
	case w.seq == 0:
		allowed = []EventType{WebhookCreatedType}
	case !w.deleted:
		allowed = []EventType{WebhookChangedType, WebhookSecretRotatedType, WebhookDisabledType, WebhookTestRequestedType, WebhookDeletedType}
	}
	p, err := applyNext("webhook", w.seq, e, allowed...)
	if err != nil {
		return err
	}
	switch p := p.(type) {
	case *WebhookCreated:
		w.tenantID, w.createdBy, w.createdAt, w.secretID = e.TenantID, p.CreatedBy, e.OccurredAt, p.SecretID
		w.settings = WebhookSettings{URL: p.URL, Events: p.Events, Description: p.Description, Enabled: p.Enabled}
		if p.Enabled {
			w.enabledAt = e.OccurredAt
		}
	case *WebhookChanged:
		if p.Enabled && !w.settings.Enabled {
			w.enabledAt = e.OccurredAt
		}
		w.settings = WebhookSettings{URL: p.URL, Events: p.Events, Description: p.Description, Enabled: p.Enabled}
		w.disabledReason = ""
	case *WebhookSecretRotated:
		until, err := ParseTime(p.PreviousValidUntil)
		if err != nil {
			return err
		}
		w.previousID, w.secretID, w.previousUntil = w.secretID, p.SecretID, until
	case *WebhookDisabled:
		w.settings.Enabled, w.disabledReason = false, p.Reason
	case *WebhookDeleted:
		w.deleted = true
	}
	w.seq, w.updatedAt = e.Seq, e.OccurredAt
	return nil
}
