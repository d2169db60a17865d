package engine

import (
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
)

// checkTime fails with a *domain.ValidationError on field for a time that
// is unset or whose UTC year is outside 0001–9999 (which the stores cannot
// keep).
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return &domain.ValidationError{Field: field, Reason: "must be set"}
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return &domain.ValidationError{Field: field, Reason: fmt.Sprintf("is in year %d (UTC), outside 0001–9999", y)}
	}
	return nil
}
