package readapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// startRequest is the body of POST /mcp/start_task.
type startRequest struct {
	Name     string          `json:"name"`
	Adapter  domain.Adapter  `json:"adapter"`
	Args     json.RawMessage `json:"args"`
	TimeoutS int             `json:"timeout_s"`
}

// startResponse answers POST /mcp/start_task.
type startResponse struct {
	TaskID      uuid.UUID `json:"task_id"`
	StreamURL   string    `json:"stream_url"`
	ResumeToken string    `json:"resume_token"`
}

func (a *api) startTask(w http.ResponseWriter, r *http.Request) {
	p, err := a.caller(w, r, domain.ActionWriteTasks)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req startRequest
	if err := decodeBody(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.cfg.Start.Handle(r.Context(), commands.StartTask{
		TenantID:  p.TenantID,
		Name:      req.Name,
		Adapter:   req.Adapter,
		Args:      req.Args,
		TimeoutS:  req.TimeoutS,
		CommandID: r.Header.Get("Idempotency-Key"),
		Meta:      requestMeta(r, p),
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/mcp/tasks/"+res.TaskID.String()+"/status")
	writeJSON(w, http.StatusCreated, startResponse{
		TaskID:      res.TaskID,
		StreamURL:   "/mcp/tasks/" + res.TaskID.String() + "/stream",
		ResumeToken: a.tokens.sign(res.TaskID, p.TenantID),
	})
}

// statusResponse answers GET /mcp/tasks/{id}/status. Times are RFC 3339
// UTC with microseconds, or null when the task has not got there.
type statusResponse struct {
	TaskID    uuid.UUID        `json:"task_id"`
	State     domain.TaskState `json:"state"`
	Attempt   int              `json:"attempt"`
	CreatedAt *string          `json:"created_at"`
	StartedAt *string          `json:"started_at"`
	EndedAt   *string          `json:"ended_at"`
	LastSeq   int64            `json:"last_seq"`
	// WaitingReason says why a queued task has not started (its tenant
	// runs as many tasks as its plan allows).
	WaitingReason string `json:"waiting_reason,omitempty"`
}

func (a *api) status(w http.ResponseWriter, r *http.Request) {
	taskID, tenantID, err := a.readAccess(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var task domain.Task
	if err := commands.CatchUpTask(r.Context(), a.cfg.Store, taskID, tenantID, &task); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusResponse{
		TaskID:    taskID,
		State:     task.State(),
		Attempt:   task.Attempt(),
		CreatedAt: optionalTime(task.CreatedAt()),
		StartedAt: optionalTime(task.StartedAt()),
		EndedAt:   optionalTime(task.EndedAt()),
		LastSeq:   task.Seq(),

		WaitingReason: task.WaitingReason(),
	})
}

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := domain.FormatTime(t)
	return &s
}

func (a *api) cancel(w http.ResponseWriter, r *http.Request) {
	taskID, err := taskIDParam(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, err := a.caller(w, r, domain.ActionWriteTasks)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	_, err = a.cfg.Cancel.Handle(r.Context(), commands.CancelTask{
		TaskID:    taskID,
		TenantID:  p.TenantID,
		CommandID: r.Header.Get("Idempotency-Key"),
		Meta:      requestMeta(r, p),
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"canceled": true})
}

// eventsResponse answers GET /v1/tasks/{id}/events. NextSeq is the
// since_seq of the next page; Ended says no event will follow it.
type eventsResponse struct {
	Events  []json.RawMessage `json:"events"`
	NextSeq int64             `json:"next_seq"`
	Ended   bool              `json:"ended"`
}

func (a *api) events(w http.ResponseWriter, r *http.Request) {
	taskID, _, err := a.readAccess(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	since, err := nonNegativeParam("since_seq", q.Get("since_seq"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	limit := int64(DefaultEventsLimit)
	if q.Has("limit") {
		if limit, err = nonNegativeParam("limit", q.Get("limit")); err != nil {
			a.writeError(w, r, err)
			return
		}
		if limit < 1 || limit > MaxEventsLimit {
			a.writeError(w, r, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be between 1 and %d", limit, MaxEventsLimit)})
			return
		}
	}
	ctx := r.Context()
	page, err := a.cfg.Store.ReadStream(ctx, taskID.String(), since, int(limit))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	resp := eventsResponse{Events: make([]json.RawMessage, 0, len(page)), NextSeq: since}
	for i := range page {
		b, err := page[i].AppendJSON(nil)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		resp.Events = append(resp.Events, b)
		resp.NextSeq = page[i].Seq
		resp.Ended = page[i].Type.Terminal()
	}
	if len(page) == 0 {
		// Nothing after since_seq: the task has ended if its last event is
		// a terminal one.
		var found bool
		if resp.Ended, found, err = a.endsAt(ctx, taskID.String(), since); err != nil {
			a.writeError(w, r, err)
			return
		}
		if !found && since > 0 {
			if resp.Ended, err = a.endedBefore(ctx, taskID, since); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// endsAt reports whether the event with seq since is the task's terminal
// event, reading that one event only; found is false when there is no such
// event (since 0, or past the end).
func (a *api) endsAt(ctx context.Context, streamID string, since int64) (ended, found bool, err error) {
	if since <= 0 {
		return false, false, nil
	}
	prev, err := a.cfg.Store.ReadStream(ctx, streamID, since-1, 1)
	if err != nil || len(prev) == 0 || prev[0].Seq != since {
		return false, false, err
	}
	return prev[0].Type.Terminal(), true, nil
}

// endedBefore reports whether the task has ended with a last seq below
// since: a client asking for events past the end of a finished task gets
// none, and no more will come.
func (a *api) endedBefore(ctx context.Context, taskID uuid.UUID, since int64) (bool, error) {
	first, err := a.cfg.Store.ReadStream(ctx, taskID.String(), 0, 1)
	if err != nil || len(first) == 0 {
		return false, err
	}
	var task domain.Task
	if err := commands.CatchUpTask(ctx, a.cfg.Store, taskID, first[0].TenantID, &task); err != nil {
		return false, err
	}
	return task.State().Terminal() && task.Seq() < since, nil
}

// caller authenticates r's bearer credential and checks that it may take
// action in its tenant (commands.ErrForbidden otherwise).
func (a *api) caller(w http.ResponseWriter, r *http.Request, action domain.Action) (commands.Principal, error) {
	bearer, err := bearerToken(r)
	if err != nil {
		return commands.Principal{}, err
	}
	p, err := a.cfg.Authenticator.Authenticate(r.Context(), bearer)
	if err != nil {
		return commands.Principal{}, err
	}
	if err := a.limit(w, r, p.Actor(), a.cfg.RequestLimit); err != nil {
		return commands.Principal{}, err
	}
	if !p.Can(action) {
		return commands.Principal{}, fmt.Errorf("%w: these credentials may not %s; use a key with the scope or a user with the role for it", commands.ErrForbidden, action)
	}
	return p, nil
}

// bearerToken returns the credential of r's "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", fmt.Errorf("%w: send Authorization: Bearer <API key or access token>", commands.ErrUnauthenticated)
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", fmt.Errorf("%w: the Authorization header must be \"Bearer <API key or access token>\"", commands.ErrUnauthenticated)
	}
	return strings.TrimSpace(token), nil
}

// requestMeta is the metadata of the events a request causes.
func requestMeta(r *http.Request, p commands.Principal) domain.Metadata {
	return domain.Metadata{Actor: p.Actor(), RequestID: requestID(r.Context())}
}

// readAccess checks that r may read the task of its path: with a resume
// token (?token=) for that task, or as the tenant that owns it. It returns
// the task's id and tenant. A task that does not exist, that belongs to
// another tenant, or whose token does not match is commands.ErrTaskNotFound.
func (a *api) readAccess(w http.ResponseWriter, r *http.Request) (uuid.UUID, string, error) {
	taskID, err := taskIDParam(r)
	if err != nil {
		return uuid.Nil, "", err
	}
	q := r.URL.Query()
	var tenantID string
	if !q.Has("token") {
		p, err := a.caller(w, r, domain.ActionReadTasks)
		if err != nil {
			return uuid.Nil, "", err
		}
		tenantID = p.TenantID
	}
	first, err := a.cfg.Store.ReadStream(r.Context(), taskID.String(), 0, 1)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("read task %s: %w", taskID, err)
	}
	notFound := fmt.Errorf("task %s: %w", taskID, commands.ErrTaskNotFound)
	if len(first) == 0 || first[0].StreamType != domain.StreamTask {
		return uuid.Nil, "", notFound
	}
	if q.Has("token") {
		if err := a.limitAddress(w, r, "token", a.cfg.RequestLimit); err != nil {
			return uuid.Nil, "", err
		}
		if !a.tokens.verify(q.Get("token"), taskID, first[0].TenantID) {
			return uuid.Nil, "", notFound
		}
		return taskID, first[0].TenantID, nil
	}
	if first[0].TenantID != tenantID {
		return uuid.Nil, "", notFound
	}
	return taskID, tenantID, nil
}

// taskIDParam parses the {id} path parameter: a UUID in its canonical form.
func taskIDParam(r *http.Request) (uuid.UUID, error) {
	s := chi.URLParam(r, "id")
	id, err := uuid.Parse(s)
	if err != nil || id.String() != s {
		return uuid.Nil, &domain.ValidationError{Field: "id", Reason: "must be a task id: a lowercase UUID like 0190d2a4-6c1e-7b3a-9f00-000000000000"}
	}
	return id, nil
}

// nonNegativeParam parses an optional integer parameter (empty is 0).
func nonNegativeParam(name, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, &domain.ValidationError{Field: name, Reason: fmt.Sprintf("is %q; it must be a non-negative integer", s)}
	}
	return n, nil
}
