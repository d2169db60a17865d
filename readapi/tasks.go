package readapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

func (a *api) startTask(w http.ResponseWriter, r *http.Request, p commands.Principal, req wire.StartTaskRequest) (wire.StartedTask, error) {
	cmd := startCommand(req)
	cmd.TenantID, cmd.CommandID, cmd.Meta = p.TenantID, r.Header.Get("Idempotency-Key"), requestMeta(r, p)
	res, err := a.cfg.Start.Handle(r.Context(), cmd)
	if err != nil {
		return wire.StartedTask{}, err
	}
	w.Header().Set("Location", "/mcp/tasks/"+res.TaskID.String()+"/status")
	return a.started(res.TaskID, p.TenantID), nil
}

// startCommand returns the StartTask of req, without its tenant, command
// id and metadata, which come with the request.
func startCommand(req wire.StartTaskRequest) commands.StartTask {
	return commands.StartTask{
		Name:        req.Name,
		Adapter:     req.Adapter,
		Args:        req.Args,
		TimeoutS:    req.TimeoutS,
		Retry:       req.Retry,
		OnInterrupt: req.OnInterrupt,
	}
}

// started is the answer about a task just started of tenantID.
func (a *api) started(taskID uuid.UUID, tenantID string) wire.StartedTask {
	return wire.StartedTask{
		TaskID:      taskID,
		StreamURL:   "/mcp/tasks/" + taskID.String() + "/stream",
		ResumeToken: a.tokens.sign(taskID, tenantID),
	}
}

func (a *api) status(w http.ResponseWriter, r *http.Request, _ commands.Principal, _ noBody) (wire.Task, error) {
	taskID, tenantID, err := a.readAccess(w, r)
	if err != nil {
		return wire.Task{}, err
	}
	var task domain.Task
	if err := commands.CatchUpTask(r.Context(), a.cfg.Store, taskID, tenantID, &task); err != nil {
		return wire.Task{}, err
	}
	st := wire.Task{
		TaskID:        taskID,
		State:         task.State(),
		Attempt:       task.Attempt(),
		CreatedAt:     wire.Time{Time: task.CreatedAt()},
		StartedAt:     wire.Time{Time: task.StartedAt()},
		EndedAt:       wire.Time{Time: task.EndedAt()},
		LastSeq:       task.Seq(),
		WaitingReason: task.WaitingReason(),
	}
	if task.State() == domain.StateQueued && !task.NotBefore().IsZero() {
		st.NextAttemptAt = &wire.Time{Time: task.NotBefore()}
	}
	return st, nil
}

// taskAs admits, on an endpoint of one task, the callers that may take
// action in their tenant; a malformed task id is answered first.
func (a *api) taskAs(action domain.Action) guard {
	return func(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
		if _, err := taskIDParam(r); err != nil {
			return commands.Principal{}, err
		}
		return a.caller(w, r, action)
	}
}

func (a *api) cancel(_ http.ResponseWriter, r *http.Request, p commands.Principal, _ noBody) (wire.Canceled, error) {
	taskID, err := taskIDParam(r)
	if err != nil {
		return wire.Canceled{}, err
	}
	_, err = a.cfg.Cancel.Handle(r.Context(), commands.CancelTask{
		TaskID:    taskID,
		TenantID:  p.TenantID,
		CommandID: r.Header.Get("Idempotency-Key"),
		Meta:      requestMeta(r, p),
	})
	return wire.Canceled{Canceled: err == nil}, err
}

// selfChecked admits every request to a call that checks access itself
// (readAccess: a task's resume token, or the tenant that owns it).
func selfChecked(http.ResponseWriter, *http.Request) (commands.Principal, error) {
	return commands.Principal{}, nil
}

func (a *api) events(w http.ResponseWriter, r *http.Request, _ commands.Principal, _ noBody) (wire.EventPage, error) {
	taskID, tenantID, err := a.readAccess(w, r)
	if err != nil {
		return wire.EventPage{}, err
	}
	q := r.URL.Query()
	since, err := nonNegativeParam("since_seq", q.Get("since_seq"))
	if err != nil {
		return wire.EventPage{}, err
	}
	limit := int64(DefaultEventsLimit)
	if q.Has("limit") {
		if limit, err = nonNegativeParam("limit", q.Get("limit")); err != nil {
			return wire.EventPage{}, err
		}
		if limit < 1 || limit > MaxEventsLimit {
			return wire.EventPage{}, &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be between 1 and %d", limit, MaxEventsLimit)}
		}
	}
	ctx := r.Context()
	page, err := a.cfg.Store.ReadStream(ctx, taskID.String(), since, int(limit))
	if err != nil {
		return wire.EventPage{}, err
	}
	resp := wire.EventPage{Events: page, NextSeq: since}
	for i := range page {
		resp.NextSeq = page[i].Seq
		resp.Ended = page[i].Type.Terminal()
	}
	if len(page) == 0 {
		resp.Events = []domain.Event{} // never null
		// Nothing after since_seq: has the task ended there, or before?
		resp.Ended, _, err = a.endedBy(ctx, taskID, tenantID, since)
	}
	return resp, err
}

// endedBy reports whether the task of tenantID has ended by seq since: its
// event since is the terminal one, or it ended with a last seq below since.
// A client asking for events past that gets none, and no more will come.
// final is true when the answer cannot change: the event since was read
// (its type decides), or since is 0.
func (a *api) endedBy(ctx context.Context, taskID uuid.UUID, tenantID string, since int64) (ended, final bool, err error) {
	ended, found, err := a.endsAt(ctx, taskID.String(), since)
	if err == nil && !found && since > 0 {
		ended, err = a.endedBefore(ctx, taskID, tenantID, since)
		return ended, false, err
	}
	return ended, true, err
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
func (a *api) endedBefore(ctx context.Context, taskID uuid.UUID, tenantID string, since int64) (bool, error) {
	var task domain.Task
	if err := commands.CatchUpTask(ctx, a.cfg.Store, taskID, tenantID, &task); err != nil {
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
	if err := a.limit(w, r, "request", p.Actor(), a.cfg.RequestLimit); err != nil {
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
