package eventstore

import (
	"context"
	"time"
)

// Limits of APIKeyUsageStore.
const (
	// MaxTouchAPIKeys bounds the entries of one APIKeyUsageTouch call.
	MaxTouchAPIKeys = 10_000
	// MaxAPIKeysLastUsed bounds the ids of one APIKeyUsageGet call.
	MaxAPIKeysLastUsed = 1000
)

// APIKeyUsageStore keeps when API keys were last used: one port of the
// operational state beside the log (see Store). It is in no hash chain and
// no feed, and no projection rebuilds it. Both engines' stores implement
// it; eventstore/storetest.RunAPIKeyUsage is its conformance suite.
type APIKeyUsageStore interface {
	// APIKeyUsageTouch records when API keys were last used: for each key
	// id of uses, the later of its stored time and the given one (a time
	// never moves backwards, so concurrent and out-of-order calls converge
	// on the latest use). Times are kept in UTC with microsecond precision.
	// All of uses is written in one round trip and one transaction; an
	// empty map writes nothing. More than MaxTouchAPIKeys entries, an
	// invalid key id or an unset time fail with a *domain.ValidationError
	// (field "uses") and write nothing. Callers should batch uses and call
	// it every few seconds, not once per request.
	APIKeyUsageTouch(ctx context.Context, uses map[string]time.Time) error

	// APIKeyUsageGet returns the stored last use (UTC, microseconds) of
	// each of keyIDs that APIKeyUsageTouch has recorded; keys never
	// recorded are absent from the map. It sees every APIKeyUsageTouch call
	// that has returned. More than MaxAPIKeysLastUsed ids or an invalid id
	// fail with a *domain.ValidationError.
	APIKeyUsageGet(ctx context.Context, keyIDs []string) (map[string]time.Time, error)
}
