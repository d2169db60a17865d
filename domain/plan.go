package domain

import "fmt"

// PlanName names a plan; the limits of each are configuration (package
// plans). Plan names are stored in events and never renamed.
type PlanName string

// The plans.
const (
	PlanTrial PlanName = "trial"
	PlanEntry PlanName = "entry"
	PlanPro   PlanName = "pro"
	PlanEnt   PlanName = "ent"
)

// ParsePlanName parses one of trial, entry, pro, ent; anything else is a
// *ValidationError for field "plan".
func ParsePlanName(s string) (PlanName, error) {
	switch p := PlanName(s); p {
	case PlanTrial, PlanEntry, PlanPro, PlanEnt:
		return p, nil
	}
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return "", &ValidationError{Field: "plan", Reason: fmt.Sprintf("is %q; use one of trial, entry, pro, ent", s)}
}
