package api

import (
	"encoding/json"
	"net/http"

	"github.com/axontask/axontask/domain"
)

// ProblemTypeBase prefixes the type of every problem of the API but the
// generic "about:blank".
const ProblemTypeBase = "urn:axontask:problem:"

// Problem is an RFC 9457 problem document: every error answer of the API,
// as application/problem+json.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Field names the one input (body field, query parameter, header or
	// path parameter) that is wrong, when there is one.
	Field string `json:"field,omitempty"`
	// State is a finished task's final state, on a 409 task-finished.
	State domain.TaskState `json:"state,omitempty"`
	// Plan, Limit, Used and ResetsAt describe a daily quota, on a 429
	// quota-exceeded.
	Plan     domain.PlanName `json:"plan,omitempty"`
	Limit    int             `json:"limit,omitempty"`
	Used     int             `json:"used,omitempty"`
	ResetsAt Time            `json:"resets_at,omitzero"`
}

// WriteProblem answers p as application/problem+json, not cached. HTML is
// not escaped: a detail's <API key> reads as written.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}
