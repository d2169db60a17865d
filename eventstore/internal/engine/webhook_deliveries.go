package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ValidateDispatch checks the arguments of WebhookDispatchApply.
func ValidateDispatch(from, to int64, endpoints []eventstore.WebhookEndpoint, deliveries []eventstore.WebhookDelivery) error {
	if from < 0 || to < from {
		return &domain.ValidationError{Field: "to", Reason: fmt.Sprintf("dispatch from %d to %d: positions start at 0 and never move back", from, to)}
	}
	for _, e := range endpoints {
		if e.WebhookID == "" || e.TenantID == "" {
			return &domain.ValidationError{Field: "endpoints", Reason: "an endpoint needs its webhook and tenant ids"}
		}
	}
	for _, d := range deliveries {
		if d.ID == "" || d.WebhookID == "" || d.Position < from || d.Position >= to || d.NextAttemptAt.IsZero() {
			return &domain.ValidationError{Field: "deliveries", Reason: fmt.Sprintf("delivery %q: needs ids, a due time and a position in [%d, %d)", d.ID, from, to)}
		}
	}
	return nil
}

// PrepareAttempt checks an attempt and the state it leads to, and bounds
// its response excerpt (MaxWebhookResponseExcerpt bytes, valid UTF-8) and
// time (UTC microseconds).
func PrepareAttempt(a eventstore.WebhookAttempt, state eventstore.DeliveryState) (eventstore.WebhookAttempt, error) {
	switch {
	case a.DeliveryID == "" || a.Attempt < 1 || a.Attempt > 1_000_000 || a.At.IsZero():
		return a, &domain.ValidationError{Field: "attempt", Reason: "needs a delivery id, an attempt number from 1 and a time"}
	case state != eventstore.DeliveryPending && state != eventstore.DeliverySucceeded && state != eventstore.DeliveryFailed:
		return a, &domain.ValidationError{Field: "state", Reason: fmt.Sprintf("unknown delivery state %q", state)}
	}
	if len(a.Response) > eventstore.MaxWebhookResponseExcerpt {
		a.Response = a.Response[:eventstore.MaxWebhookResponseExcerpt]
	}
	// Postgres text holds neither invalid UTF-8 nor NUL.
	clean := func(s string) string {
		return strings.ReplaceAll(strings.ToValidUTF8(s, string(utf8.RuneError)), "\x00", string(utf8.RuneError))
	}
	a.Response, a.Error = clean(a.Response), clean(a.Error)
	a.At = domain.NormalizeTime(a.At)
	return a, nil
}
