package domain

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Webhook limits.
const (
	// MaxWebhookURLLen bounds an endpoint's URL, in bytes.
	MaxWebhookURLLen = 2048
	// MaxWebhookDescriptionLen bounds an endpoint's description, in bytes.
	MaxWebhookDescriptionLen = 500
	// MaxWebhookPatterns bounds the patterns of an event filter.
	MaxWebhookPatterns = 64
)

// webhookCategories are the event categories a webhook may subscribe to,
// each as "<category>.*" or by a type of it; usage is the API processes'
// read-side counts (usage.recorded). User and session events are never
// delivered: their payloads hold password and refresh token hashes.
var webhookCategories = []string{"api_key", "secret", "task", "tenant", "usage", "webhook"}

// EventFilter is the event types an endpoint subscribes to: patterns that
// are "*" (every deliverable type), "<category>.*" ("task.*") or one type
// ("task.succeeded"). task.output, the bulk of the log, matches only when
// named on its own: a wildcard never includes it.
type EventFilter []string

// ParseEventFilter validates patterns and returns them sorted without
// duplicates; nil or empty means "*". A pattern that is neither "*", a
// category wildcard nor a deliverable event type fails with a
// *ValidationError for field "events".
func ParseEventFilter(patterns []string) (EventFilter, error) {
	if len(patterns) == 0 {
		return EventFilter{"*"}, nil
	}
	if len(patterns) > MaxWebhookPatterns {
		return nil, &ValidationError{Field: "events", Reason: fmt.Sprintf("lists %d patterns, more than %d; use a wildcard such as task.*", len(patterns), MaxWebhookPatterns)}
	}
	out := make(EventFilter, 0, len(patterns))
	for _, p := range patterns {
		if !validPattern(p) {
			shown := p
			if len(shown) > 64 {
				shown = shown[:64] + "…"
			}
			return nil, &ValidationError{Field: "events", Reason: fmt.Sprintf("pattern %q is no deliverable event type; use *, one of %s.* or a type such as task.succeeded", shown, strings.Join(webhookCategories, ".*, "))}
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func validPattern(p string) bool {
	if p == "*" {
		return true
	}
	category, rest, ok := strings.Cut(p, ".")
	if !ok || !slices.Contains(webhookCategories, category) {
		return false
	}
	return rest == "*" || (KnownType(EventType(p)) && EventType(p) != WebhookTestRequestedType)
}

// Match reports whether an event of type t is delivered under f. A
// webhook.test_requested event never is: it goes to its own endpoint only.
func (f EventFilter) Match(t EventType) bool {
	category, _, _ := strings.Cut(string(t), ".")
	if !slices.Contains(webhookCategories, category) || t == WebhookTestRequestedType {
		return false
	}
	for _, p := range f {
		switch {
		case p == string(t):
			return true
		case t == TaskOutputType:
		case p == "*" || p == category+".*":
			return true
		}
	}
	return false
}

// ParseWebhookURL checks an endpoint's URL: absolute, https (or http when
// allowHTTP), with a host, without user info or fragment, at most
// MaxWebhookURLLen bytes. Whether its host may be dialled is the delivery
// guard's to decide, not the domain's. Errors are *ValidationError for
// field "url".
func ParseWebhookURL(raw string, allowHTTP bool) (*url.URL, error) {
	bad := func(reason string) error { return &ValidationError{Field: "url", Reason: reason} }
	if len(raw) > MaxWebhookURLLen {
		return nil, bad(fmt.Sprintf("is %d bytes long; the limit is %d", len(raw), MaxWebhookURLLen))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("is not a URL: " + strings.TrimPrefix(err.Error(), "parse "))
	}
	switch {
	case u.Scheme == "http" && !allowHTTP:
		return nil, bad("must use https; this server delivers to http URLs only when its operator allows them")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, bad("must be an https URL such as https://hooks.example.com/axontask")
	case u.Hostname() == "":
		return nil, bad("must name a host")
	case u.User != nil:
		return nil, bad("must not carry user info; authenticate deliveries by their signature")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, bad("must not have a fragment (#…)")
	}
	return u, ValidateIdentifier("url", raw)
}
