package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/plans"
)

// Defaults of StartTaskConfig.
const (
	DefaultTaskTimeoutS = 60 * 60      // one hour
	DefaultMaxTimeoutS  = 24 * 60 * 60 // 24 hours
)

// StartTask creates a task and queues its first attempt.
type StartTask struct {
	// TaskID is the new task's id. Zero: derived from CommandID when it is
	// set (so a retry starts the same task), random otherwise.
	TaskID uuid.UUID
	// TenantID owns the task; it comes from the caller's credentials.
	TenantID string
	// Name is a human-readable label: non-empty, at most
	// domain.MaxTaskNameLen bytes of UTF-8 without control characters.
	Name string
	// Adapter chooses the executor; Args are its arguments (see domain.ParseArgs).
	Adapter domain.Adapter
	Args    json.RawMessage
	// TimeoutS bounds the task's run time in seconds; 0 means the handler's
	// default (StartTaskConfig.DefaultTimeoutS).
	TimeoutS int
	// Retry, when set, runs the task again after an attempt fails (see
	// domain.RetryPolicy); nil runs it once.
	Retry *domain.RetryPolicy
	// OnInterrupt says what becomes of the task when its worker dies: ""
	// or domain.OnInterruptRetry queues it again, domain.OnInterruptFail
	// fails it.
	OnInterrupt domain.OnInterrupt
	// CommandID, when set, makes the command idempotent per tenant (see the
	// package doc) and is the events' causation id.
	CommandID string
	// Meta is stored with every event of the command.
	Meta domain.Metadata
}

// StartTaskResult is what a StartTask stored.
type StartTaskResult struct {
	TaskID uuid.UUID
	// Events are the stored task.created and task.queued, at seqs 1 and 2.
	// For a repeated command they are the events the first one stored.
	Events []domain.Event
	// LastSeq is the seq of the last event in Events (2).
	LastSeq int64
}

// StartTaskConfig configures a StartTaskHandler. The zero value is usable.
type StartTaskConfig struct {
	// DefaultTimeoutS is the timeout of a task started with TimeoutS 0
	// (default DefaultTaskTimeoutS, one hour, or MaxTimeoutS when that is less).
	DefaultTimeoutS int
	// MaxTimeoutS bounds TimeoutS (default DefaultMaxTimeoutS, 24 hours).
	MaxTimeoutS int
	// NowFunc gives the time the events occur at (default time.Now).
	NowFunc func() time.Time
	// Quotas, when set, applies the tenant's plan: its longest timeout
	// (also lowering the default) and its daily task cap.
	Quotas *Quotas
}

func (c StartTaskConfig) withDefaults() StartTaskConfig {
	if c.MaxTimeoutS == 0 {
		c.MaxTimeoutS = DefaultMaxTimeoutS
	}
	if c.DefaultTimeoutS == 0 {
		c.DefaultTimeoutS = min(DefaultTaskTimeoutS, c.MaxTimeoutS)
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	return c
}

func (c StartTaskConfig) validate() error {
	if c.MaxTimeoutS < 1 {
		return fmt.Errorf("start task config: MaxTimeoutS is %d; it must be positive", c.MaxTimeoutS)
	}
	if c.DefaultTimeoutS < 1 || c.DefaultTimeoutS > c.MaxTimeoutS {
		return fmt.Errorf("start task config: DefaultTimeoutS is %d; it must be between 1 and MaxTimeoutS (%d)", c.DefaultTimeoutS, c.MaxTimeoutS)
	}
	return nil
}

// StartTaskHandler handles StartTask. It is safe for concurrent use.
type StartTaskHandler struct {
	s starter
}

// NewStartTaskHandler returns a handler that appends to store. It fails
// when cfg, with its defaults, cannot work.
func NewStartTaskHandler(store StreamStore, cfg StartTaskConfig) (*StartTaskHandler, error) {
	s, err := newStarter(store, cfg)
	if err != nil {
		return nil, err
	}
	return &StartTaskHandler{s: s}, nil
}

// Handle validates cmd and appends task.created (with the adapter's
// arguments in canonical form, defaults filled in) and task.queued (attempt
// 1) to a new task stream, in one append. Invalid input fails with a
// *domain.ValidationError and writes nothing. A repeated command (same
// tenant and CommandID) returns the first one's task and events and writes
// nothing; the same CommandID with other arguments fails with
// ErrCommandIDReused. An explicit TaskID that is taken fails with ErrTaskExists.
// With Quotas, a start past the plan's daily cap fails with a
// *QuotaExceededError and a timeout past the plan's with a
// *domain.ValidationError; a start that does not happen is not counted.
func (h *StartTaskHandler) Handle(ctx context.Context, cmd StartTask) (StartTaskResult, error) {
	limits, plan, err := h.s.limits(ctx, cmd.TenantID)
	if err != nil {
		return StartTaskResult{}, err
	}
	p, err := h.s.prepare(cmd, limits)
	if err != nil {
		return StartTaskResult{}, err
	}
	release, err := h.s.reserve(ctx, cmd.TenantID, plan, []preparedStart{p})
	if err != nil {
		return StartTaskResult{}, err
	}
	stored, err := h.s.w.Store.Append(ctx, p.stream, 0, p.events)
	res, err := p.result(stored, err)
	if err != nil && release != nil {
		release()
	}
	return res, err
}

// starter is what StartTaskHandler and StartTasksHandler share: the
// validation of a start, its events and the daily quota.
type starter struct {
	w   Writer
	cfg StartTaskConfig
}

func newStarter(store StreamStore, cfg StartTaskConfig) (starter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return starter{}, err
	}
	return starter{w: Writer{Store: store, NowFunc: cfg.NowFunc}, cfg: cfg}, nil
}

// timeoutLimits bound a start's timeout_s: the handler's, or its plan's
// when lower.
type timeoutLimits struct {
	max, def int
	plan     domain.PlanName
}

// limits returns the timeout limits of tenantID's starts and, with
// Quotas, its plan (the zero plan without).
func (s starter) limits(ctx context.Context, tenantID string) (timeoutLimits, plans.Plan, error) {
	limits := timeoutLimits{max: s.cfg.MaxTimeoutS, def: s.cfg.DefaultTimeoutS}
	q := s.cfg.Quotas
	if q == nil {
		return limits, plans.Plan{}, nil
	}
	// The tenant id is checked before it reaches the store.
	if err := domain.ValidateIdentifier("tenant_id", tenantID); err != nil {
		return timeoutLimits{}, plans.Plan{}, err
	}
	plan, err := q.Plan(ctx, tenantID)
	if err != nil {
		return timeoutLimits{}, plans.Plan{}, err
	}
	if plan.MaxTimeoutS < limits.max {
		limits = timeoutLimits{max: plan.MaxTimeoutS, def: min(limits.def, plan.MaxTimeoutS), plan: plan.Name}
	}
	return limits, plan, nil
}

// reserve counts starts, one start or a batch, against their tenant's
// daily cap (with Quotas; without, it does nothing), all or none, unless
// they are a repeated command that started them before. release gives
// them back, for starts that did not happen; nil when nothing was counted.
func (s starter) reserve(ctx context.Context, tenantID string, plan plans.Plan, starts []preparedStart) (release func(), err error) {
	q := s.cfg.Quotas
	if q == nil {
		return nil, nil
	}
	repeat, err := q.startedBefore(ctx, starts)
	if err != nil || repeat {
		return nil, err
	}
	return q.reserve(ctx, tenantID, plan, len(starts))
}

// preparedStart is a validated start, ready to append at seq 0 without
// reading the stream first (a stream that exists is a conflict).
type preparedStart struct {
	taskID    uuid.UUID
	commandID string
	stream    eventstore.Stream
	// events are what domain.Task.DecideStart picks for a new task.
	events []domain.NewEvent
	// created is task.created's canonical payload, to compare with what a
	// repeated command finds stored.
	created []byte
}

// prepare validates cmd and builds its events.
func (s starter) prepare(cmd StartTask, limits timeoutLimits) (preparedStart, error) {
	created, err := s.decide(cmd, limits)
	if err != nil {
		return preparedStart{}, err
	}
	var task domain.Task
	decided, err := task.DecideStart(created)
	if err != nil {
		return preparedStart{}, err
	}
	taskID, eventIDs, err := startIDs(cmd, len(decided))
	if err != nil {
		return preparedStart{}, err
	}
	stream := taskStream(taskID, cmd.TenantID)
	to := Target{Stream: stream, Meta: withCausation(cmd.Meta, cmd.CommandID), EventIDFunc: func(i int) uuid.UUID { return eventIDs[i] }}
	events, err := s.w.NewEvents(to, decided)
	if err != nil {
		return preparedStart{}, err
	}
	canonicalCreated, err := integrity.CanonicalPayload(events[0].Payload)
	if err != nil {
		return preparedStart{}, err
	}
	return preparedStart{taskID: taskID, commandID: cmd.CommandID, stream: stream, events: events, created: canonicalCreated}, nil
}

// result turns what the store answered to p's append (its stored events,
// or err) into the start's result or error.
func (p preparedStart) result(stored []domain.Event, err error) (StartTaskResult, error) {
	var verr *domain.ValidationError
	switch {
	case err == nil:
	case errors.Is(err, eventstore.ErrEventIDReused):
		// Only a derived id can be stored already: the command id started
		// another task (an explicit TaskID that differs from the first try's).
		return StartTaskResult{}, fmt.Errorf("start task: command id %q already started another task: %w", p.commandID, ErrCommandIDReused)
	case errors.Is(err, eventstore.ErrConflict),
		// The stream belongs to another tenant (the input was validated
		// before); answered like a conflict, so as not to tell them apart.
		errors.As(err, &verr) && (verr.Field == "tenant_id" || verr.Field == "stream_type"):
		return StartTaskResult{}, fmt.Errorf("start task %s: %w", p.taskID, ErrTaskExists)
	default:
		return StartTaskResult{}, fmt.Errorf("start task %s: %w", p.taskID, err)
	}
	if len(stored) != len(p.events) {
		return StartTaskResult{}, fmt.Errorf("start task %s: the store returned %d events for an append of %d", p.taskID, len(stored), len(p.events))
	}
	// A repeated command gets the first one's events back; they must be this
	// very command. (A pruned payload, nil, cannot be compared.)
	if c := stored[0].Payload; c != nil && !bytes.Equal(c, p.created) {
		return StartTaskResult{}, fmt.Errorf("start task: command id %q already started task %s with other arguments: %w", p.commandID, p.taskID, ErrCommandIDReused)
	}
	return StartTaskResult{TaskID: p.taskID, Events: stored, LastSeq: stored[len(stored)-1].Seq}, nil
}

// decide validates cmd and returns the task.created payload.
func (s starter) decide(cmd StartTask, limits timeoutLimits) (*domain.TaskCreated, error) {
	if err := domain.ValidateIdentifier("tenant_id", cmd.TenantID); err != nil {
		return nil, err
	}
	if err := validateCommandID(cmd.CommandID); err != nil {
		return nil, err
	}
	if err := validateTaskName(cmd.Name); err != nil {
		return nil, err
	}
	if cmd.Adapter == "" {
		return nil, &domain.ValidationError{Field: "adapter", Reason: `must be set; use "mock", "shell", "docker" or "fly"`}
	}
	args, err := domain.ParseArgs(cmd.Adapter, cmd.Args)
	if err != nil {
		return nil, err
	}
	// The parsed arguments, not the raw ones: defaults filled in, unknown
	// spellings gone, in canonical form. The task states exactly what runs.
	canonArgs, err := canonicalPayload(args)
	if err != nil {
		return nil, err
	}
	timeoutS := cmd.TimeoutS
	if timeoutS == 0 {
		timeoutS = limits.def
	}
	if timeoutS < 1 || timeoutS > limits.max {
		bound := ""
		if limits.plan != "" {
			bound = fmt.Sprintf(" (the %s plan's limit)", limits.plan)
		}
		return nil, &domain.ValidationError{Field: "timeout_s", Reason: fmt.Sprintf(
			"is %d; it must be between 1 and %d seconds%s (leave it out or 0 for the default, %d)",
			cmd.TimeoutS, limits.max, bound, limits.def)}
	}
	created := &domain.TaskCreated{Adapter: string(cmd.Adapter), Args: canonArgs, Name: cmd.Name, OnInterrupt: cmd.OnInterrupt, TimeoutS: timeoutS}
	if err := domain.ValidateOnInterrupt(cmd.OnInterrupt); err != nil {
		return nil, err
	}
	if cmd.Retry != nil {
		policy, err := cmd.Retry.Normalize()
		if err != nil {
			return nil, err
		}
		created.Retry = &policy
	}
	return created, nil
}

// validateTaskName checks a task's name: it is written into events and
// shown in lists and terminals.
func validateTaskName(name string) error {
	if len(name) > domain.MaxTaskNameLen {
		return &domain.ValidationError{Field: "name", Reason: fmt.Sprintf("is %d bytes long; the limit is %d", len(name), domain.MaxTaskNameLen)}
	}
	if err := domain.ValidateIdentifier("name", name); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return &domain.ValidationError{Field: "name", Reason: "must not be blank"}
	}
	return nil
}

// startIDs returns the task id and n event ids of a StartTask: derived from
// (tenant, CommandID) when the command has one, random otherwise.
func startIDs(cmd StartTask, n int) (uuid.UUID, []uuid.UUID, error) {
	ids := make([]uuid.UUID, n)
	taskID := cmd.TaskID
	if cmd.CommandID != "" {
		if taskID == uuid.Nil {
			taskID = derivedID("start_task", "task", cmd.TenantID, cmd.CommandID)
		}
		for i := range ids {
			ids[i] = derivedID("start_task", "event", cmd.TenantID, cmd.CommandID, strconv.Itoa(i))
		}
		return taskID, ids, nil
	}
	var err error
	if taskID == uuid.Nil {
		if taskID, err = uuid.NewV7(); err != nil {
			return uuid.Nil, nil, fmt.Errorf("start task: new task id: %w", err)
		}
	}
	for i := range ids {
		if ids[i], err = uuid.NewV7(); err != nil {
			return uuid.Nil, nil, fmt.Errorf("start task: new event id: %w", err)
		}
	}
	return taskID, ids, nil
}

// canonicalPayload renders v as RFC 8785 canonical JSON, the bytes the store
// keeps, so that a repeated command can compare them.
func canonicalPayload(v any) ([]byte, error) {
	b, err := domain.MarshalPayload(v)
	if err != nil {
		return nil, err
	}
	return integrity.CanonicalPayload(b)
}
