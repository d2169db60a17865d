package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// APIKeyUse is one entry of an APIKeyUsageTouch call, as PrepareAPIKeyUses
// returns it.
type APIKeyUse struct {
	KeyID  string
	UsedAt time.Time // UTC, microseconds
}

// PrepareAPIKeyUses validates the argument of eventstore.APIKeyUsageStore.APIKeyUsageTouch before any
// I/O and returns its entries sorted by key id (so that concurrent batches
// lock rows in one order), with times normalized by domain.NormalizeTime.
// Every failure is a *domain.ValidationError for the field "uses".
func PrepareAPIKeyUses(uses map[string]time.Time) ([]APIKeyUse, error) {
	if len(uses) > eventstore.MaxTouchAPIKeys {
		return nil, &domain.ValidationError{Field: "uses", Reason: fmt.Sprintf("holds %d keys; one call takes at most %d, split it", len(uses), eventstore.MaxTouchAPIKeys)}
	}
	out := make([]APIKeyUse, 0, len(uses))
	for id, at := range uses {
		if err := domain.ValidateIdentifier("uses", id); err != nil {
			return nil, err
		}
		if at.IsZero() {
			return nil, &domain.ValidationError{Field: "uses", Reason: fmt.Sprintf("time of key %q must be set", id)}
		}
		if y := at.UTC().Year(); y < 1 || y > 9999 {
			return nil, &domain.ValidationError{Field: "uses", Reason: fmt.Sprintf("time of key %q is in year %d, outside 0001–9999", id, y)}
		}
		out = append(out, APIKeyUse{KeyID: id, UsedAt: domain.NormalizeTime(at)})
	}
	slices.SortFunc(out, func(a, b APIKeyUse) int { return strings.Compare(a.KeyID, b.KeyID) })
	return out, nil
}

// ValidateAPIKeyIDs checks the argument of eventstore.APIKeyUsageStore.APIKeyUsageGet before any
// I/O: at most MaxAPIKeysLastUsed ids, each a valid identifier. Every
// failure is a *domain.ValidationError.
func ValidateAPIKeyIDs(keyIDs []string) error {
	if len(keyIDs) > eventstore.MaxAPIKeysLastUsed {
		return &domain.ValidationError{Field: "key_ids", Reason: fmt.Sprintf("holds %d ids; one call takes at most %d, split it", len(keyIDs), eventstore.MaxAPIKeysLastUsed)}
	}
	for i, id := range keyIDs {
		if err := domain.ValidateIdentifier(fmt.Sprintf("key_ids[%d]", i), id); err != nil {
			return err
		}
	}
	return nil
}
