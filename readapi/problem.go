package readapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/billing/stripebilling"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/secrets"
)

// Errors of the router itself and of authentication.
var (
	errNoRoute = errors.New("no such endpoint; GET /openapi.json lists the routes")
	errMethod  = errors.New("method not allowed on this endpoint")
	// errTooLarge matches every *tooLargeError.
	errTooLarge = errors.New("the request body is too large")
)

// tooLargeError reports a request body past its endpoint's limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the request body is larger than %d bytes", e.limit)
}

// Is makes errors.Is(err, errTooLarge) true.
func (e *tooLargeError) Is(target error) bool { return target == errTooLarge }

// toProblem is the one place that maps errors to HTTP problems.
func toProblem(err error) wire.Problem {
	var verr *domain.ValidationError
	var finished *commands.TaskFinishedError
	var inputErr *auth.InputError
	var limited *rateLimitedError
	var quota *commands.QuotaExceededError
	var trialEnded *commands.TrialEndedError
	var pastDue *commands.PaymentPastDueError
	var batchTask *commands.BatchTaskError
	switch {
	case errors.As(err, &batchTask):
		// Before the others: the task's own error is wrapped inside.
		return batchTaskProblem(batchTask)
	case errors.As(err, &pastDue):
		return wire.Problem{Type: wire.ProblemTypeBase + "payment-past-due", Title: "Payment past due", Status: http.StatusPaymentRequired,
			Detail: pastDue.Error()}
	case errors.As(err, &trialEnded):
		return wire.Problem{Type: wire.ProblemTypeBase + "trial-ended", Title: "Trial ended", Status: http.StatusPaymentRequired,
			Detail: trialEnded.Error()}
	case errors.As(err, &quota):
		return wire.Problem{Type: wire.ProblemTypeBase + "quota-exceeded", Title: "Daily task quota exceeded", Status: http.StatusTooManyRequests,
			Detail: quota.Error() + "; wait, or move to a larger plan", Plan: quota.Plan, Limit: quota.Limit, Used: quota.Used,
			ResetsAt: wire.Time{Time: quota.ResetsAt}}
	case errors.As(err, &limited):
		return wire.Problem{Type: wire.ProblemTypeBase + "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: limited.Error() + " (see the RateLimit-* headers)"}
	case errors.As(err, &inputErr):
		return wire.Problem{Type: wire.ProblemTypeBase + "invalid-input", Title: "Invalid input", Status: http.StatusBadRequest,
			Detail: inputErr.Error(), Field: inputErr.Field}
	case errors.As(err, &verr):
		field := verr.Field
		if field == "command_id" {
			field = "Idempotency-Key"
		}
		return wire.Problem{Type: wire.ProblemTypeBase + "invalid-input", Title: "Invalid input", Status: http.StatusBadRequest,
			Detail: (&domain.ValidationError{Field: field, Reason: verr.Reason}).Error(), Field: field}
	case errors.Is(err, errTooLarge):
		return wire.Problem{Type: wire.ProblemTypeBase + "body-too-large", Title: "Request body too large", Status: http.StatusRequestEntityTooLarge,
			Detail: err.Error() + "; send a smaller body", Field: "body"}
	case errors.Is(err, commands.ErrTaskNotFound):
		return wire.Problem{Type: wire.ProblemTypeBase + "task-not-found", Title: "Task not found", Status: http.StatusNotFound,
			Detail: "no task with this id is visible to you; check the id and your credentials or token"}
	case errors.As(err, &finished):
		return wire.Problem{Type: wire.ProblemTypeBase + "task-finished", Title: "Task already finished", Status: http.StatusConflict,
			Detail: fmt.Sprintf("the task has already finished: its final state is %s; there is nothing to cancel", finished.State), State: finished.State}
	case errors.Is(err, commands.ErrCommandIDReused):
		return wire.Problem{Type: wire.ProblemTypeBase + "idempotency-key-reused", Title: "Idempotency key reused", Status: http.StatusConflict,
			Detail: "this Idempotency-Key was already used for a different request; use a new key for a new operation", Field: "Idempotency-Key"}
	case errors.Is(err, commands.ErrTaskExists):
		return wire.Problem{Type: wire.ProblemTypeBase + "task-exists", Title: "Task exists", Status: http.StatusConflict,
			Detail: "a task with this id already exists"}
	case errors.Is(err, eventstore.ErrConflict):
		return wire.Problem{Type: wire.ProblemTypeBase + "conflict", Title: "Conflict", Status: http.StatusConflict,
			Detail: "the task changed while the request ran; try again"}
	case errors.Is(err, commands.ErrUnauthenticated), errors.Is(err, commands.ErrBadCredentials):
		return wire.Problem{Type: wire.ProblemTypeBase + "unauthenticated", Title: "Unauthenticated", Status: http.StatusUnauthorized, Detail: err.Error()}
	case errors.Is(err, commands.ErrForbidden):
		return wire.Problem{Type: wire.ProblemTypeBase + "forbidden", Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.Is(err, commands.ErrEmailTaken):
		return wire.Problem{Type: wire.ProblemTypeBase + "email-taken", Title: "Email address taken", Status: http.StatusConflict, Detail: err.Error(), Field: "email"}
	case errors.Is(err, commands.ErrAPIKeyNotFound):
		return wire.Problem{Type: wire.ProblemTypeBase + "api-key-not-found", Title: "API key not found", Status: http.StatusNotFound,
			Detail: "no API key with this id is visible to you; list your keys with GET /v1/api-keys"}
	case errors.Is(err, commands.ErrWebhookNotFound), errors.Is(err, domain.ErrWebhookDeleted):
		return wire.Problem{Type: wire.ProblemTypeBase + "webhook-not-found", Title: "Webhook endpoint not found", Status: http.StatusNotFound,
			Detail: "no webhook endpoint with this id is visible to you; list them with GET /v1/webhooks"}
	case errors.Is(err, domain.ErrSecretNotFound):
		return wire.Problem{Type: wire.ProblemTypeBase + "secret-not-found", Title: "Secret not found", Status: http.StatusNotFound,
			Detail: "your tenant has no secret of this name; list them with GET /v1/secrets", Field: "name"}
	case errors.Is(err, secrets.ErrNotConfigured):
		return wire.Problem{Type: wire.ProblemTypeBase + "secrets-not-enabled", Title: "Secrets not enabled", Status: http.StatusServiceUnavailable, Detail: err.Error()}
	case errors.Is(err, domain.ErrNotMember):
		return wire.Problem{Type: wire.ProblemTypeBase + "member-not-found", Title: "Member not found", Status: http.StatusNotFound,
			Detail: "no member with this user id in your tenant; list them with GET /v1/members", Field: "user_id"}
	case errors.Is(err, stripebilling.ErrNoCustomer):
		return wire.Problem{Type: wire.ProblemTypeBase + "conflict", Title: "Conflict", Status: http.StatusConflict, Detail: stripebilling.ErrNoCustomer.Error()}
	case errors.Is(err, stripebilling.ErrStripe):
		return wire.Problem{Type: wire.ProblemTypeBase + "payment-provider-unavailable", Title: "Bad gateway", Status: http.StatusBadGateway, Detail: stripebilling.ErrStripe.Error()}
	case errors.Is(err, commands.ErrTenantNotFound):
		return wire.Problem{Type: wire.ProblemTypeBase + "tenant-not-found", Title: "Tenant not found", Status: http.StatusNotFound,
			Detail: "no tenant with this id is visible to you; leave tenant_id out to get your own", Field: "tenant_id"}
	case errors.Is(err, domain.ErrInvitationNotFound):
		return wire.Problem{Type: wire.ProblemTypeBase + "invitation-not-found", Title: "Invitation not found", Status: http.StatusNotFound,
			Detail: err.Error() + "; list pending ones with GET /v1/invitations (yours) or GET /v1/members/invitations (your tenant's)"}
	case errors.Is(err, domain.ErrTooManyInvitations),
		errors.Is(err, commands.ErrTooManyAPIKeys), errors.Is(err, commands.ErrTooManyWebhooks), errors.Is(err, commands.ErrTooManySecrets), errors.Is(err, domain.ErrAlreadyMember), errors.Is(err, domain.ErrLastOwner):
		return wire.Problem{Type: wire.ProblemTypeBase + "conflict", Title: "Conflict", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, errNoRoute):
		return wire.Problem{Type: wire.ProblemTypeBase + "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, errMethod):
		return wire.Problem{Type: wire.ProblemTypeBase + "method-not-allowed", Title: "Method not allowed", Status: http.StatusMethodNotAllowed, Detail: err.Error()}
	case eventstore.Unavailable(err):
		return wire.Problem{Type: wire.ProblemTypeBase + "store-unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: fmt.Sprintf("the event store is out of reach for a moment; nothing was changed that you were not told of: retry after %d s (Retry-After)", unavailableRetryAfter)}
	}
	return wire.Problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError,
		Detail: "the server failed to answer; try again later"}
}

// batchTaskProblem is the problem of a batch of starts that its task at
// e.Index failed: the task's own problem, its field named inside the
// batch's body ("tasks[3].args.steps").
func batchTaskProblem(e *commands.BatchTaskError) wire.Problem {
	task := fmt.Sprintf("tasks[%d]", e.Index)
	var verr *domain.ValidationError
	if errors.As(e.Err, &verr) {
		field := verr.Field
		if field == "command_id" {
			field = "idempotency_key"
		}
		return toProblem(&domain.ValidationError{Field: task + "." + field, Reason: verr.Reason})
	}
	p := toProblem(e.Err)
	switch {
	case errors.Is(e.Err, commands.ErrCommandIDReused) && !e.OwnCommandID:
		p.Detail = fmt.Sprintf("this Idempotency-Key was already used for a batch with other tasks (%s differs); use a new key for a new batch, or resend the first batch as it was", task)
	case errors.Is(e.Err, commands.ErrCommandIDReused):
		p.Field = task + ".idempotency_key"
		p.Detail = task + ": this idempotency_key was already used for a different task; use a new key for a new task"
	default:
		p.Field = task
		p.Detail = task + ": " + p.Detail + "; nothing of the batch was started"
	}
	return p
}

// unavailableRetryAfter is the Retry-After, in seconds, of an answer that
// the store is out of reach: a restart of Postgres takes a few seconds.
const unavailableRetryAfter = 2

// writeError answers err as a problem and logs it when it is the server's
// fault; a request whose client left is neither answered nor logged. It
// logs the path only: queries may hold tokens. An outage of the
// store is logged once when it begins and once when it ends (storeDown),
// not once per request.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if ctxErr := r.Context().Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return // the client left: no one to answer, nothing failed on our side
	}
	p := toProblem(err)
	switch {
	case eventstore.Unavailable(err):
		a.storeDown.Note(r.Context(), err)
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	case p.Status == http.StatusServiceUnavailable:
		// Unavailable by configuration (secrets without SECRETS_KEY):
		// the operator's to fix, not an outage to wait out.
	case p.Status >= 500:
		a.cfg.Logger.ErrorContext(r.Context(), "readapi: request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", requestID(r.Context()), "err", err)
	}
	var limited *rateLimitedError
	var quota *commands.QuotaExceededError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(limited.retryAfter)))
	case errors.As(err, &quota):
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(quota.ResetsAt.Sub(a.cfg.NowFunc()))))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="axontask"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers v with status. HTML is not escaped: an event's payload
// must stay the very bytes that were digested (and the API never serves
// HTML; its Content-Security-Policy loads nothing). v is encoded before
// anything is written, so a value that does not encode is an error the
// caller can still answer, never a success with a broken body.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
	return nil
}

// readBody reads r's body, at most MaxBodyBytes of it (errTooLarge past
// that).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyUpTo(w, r, MaxBodyBytes)
}

// readBodyUpTo reads r's body, at most limit bytes of it (a *tooLargeError,
// errors.Is errTooLarge, past that).
func readBodyUpTo(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return nil, &tooLargeError{limit: limit}
	case err != nil:
		return nil, &domain.ValidationError{Field: "body", Reason: "cannot be read: " + err.Error()}
	}
	return body, nil
}

// decodeBody decodes r's JSON body, at most MaxBodyBytes, into dst: one
// object, no unknown fields, every field of its type. Its errors name the
// field that is wrong.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeJSON(body, dst)
}

// decodeJSON decodes body, one JSON object, into dst as decodeBody does.
func decodeJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if dec.Decode(new(json.RawMessage)) != io.EOF {
			return &domain.ValidationError{Field: "body", Reason: "must hold one JSON object and nothing after it"}
		}
		// null decodes into any struct without an error.
		if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("null")) {
			return &domain.ValidationError{Field: "body", Reason: "must be a JSON object, not null"}
		}
		// What the decoder took with a silent loss.
		return checkStrictJSON(body)
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return &domain.ValidationError{Field: "body", Reason: "is empty; send a JSON object"}
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &domain.ValidationError{Field: "body", Reason: "must be a JSON object, not " + typeErr.Value}
		}
		return &domain.ValidationError{Field: typeErr.Field, Reason: fmt.Sprintf("must be %s, not %s", domain.JSONKind(typeErr.Type.Kind().String()), typeErr.Value)}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &domain.ValidationError{Field: "body", Reason: "is not valid JSON: " + err.Error()}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if uerr != nil {
			name = strings.TrimPrefix(err.Error(), "json: unknown field ")
		}
		return &domain.ValidationError{Field: name, Reason: "is not a known field; check its spelling"}
	}
	return &domain.ValidationError{Field: "body", Reason: "cannot be read: " + err.Error()}
}
