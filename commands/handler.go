package commands

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"time"
)

// Handler handles commands of type C with results of type R: the one shape
// of every command handler of this package (StartTaskHandler,
// RegisterHandler, …) and of its query handlers (ListAPIKeysHandler,
// ListMembersHandler), which append nothing. Wrap handlers once, where
// they are built, with Decorate.
type Handler[C, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// Outcomes of a handled command, as Decorate reports them.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// MetricsClient counts what handlers do; declared here, by its consumer,
// so that any metrics system can stand behind it.
type MetricsClient interface {
	// CommandHandled records one handled command or query: its name (its
	// type's name, "StartTask"), its outcome (OutcomeSuccess or
	// OutcomeFailure) and how long it took. It must be safe for concurrent
	// use.
	CommandHandled(name, outcome string, took time.Duration)
}

// Decorate wraps h with logging and metrics, the concerns every handler
// shares. Each command is logged at debug level with its name, outcome and
// duration, never its fields (they may hold credentials); failures are
// not logged as errors here, since the caller that answers them logs them.
// metrics records each command's name, outcome and duration; nil records
// nothing.
func Decorate[C, R any](h Handler[C, R], logger *slog.Logger, metrics MetricsClient) Handler[C, R] {
	return decorated[C, R]{h: h, name: reflect.TypeFor[C]().Name(), logger: logger, metrics: metrics}
}

type decorated[C, R any] struct {
	h       Handler[C, R]
	name    string
	logger  *slog.Logger
	metrics MetricsClient
}

// Handle runs the wrapped handler and records what it did.
func (d decorated[C, R]) Handle(ctx context.Context, cmd C) (R, error) {
	start := time.Now()
	res, err := d.h.Handle(ctx, cmd)
	took := time.Since(start)
	outcome := OutcomeSuccess
	if err != nil {
		outcome = OutcomeFailure
	}
	if d.logger != nil {
		// The error is logged where it is handled, not here.
		d.logger.DebugContext(ctx, "command handled", "command", d.name, "outcome", outcome, "took", took)
	}
	if d.metrics != nil {
		d.metrics.CommandHandled(d.name, outcome, took)
	}
	return res, err
}

// The handlers of this package have the one shape (NewIdentityHandlers
// checks the identity handlers).
var (
	_ Handler[StartTask, StartTaskResult]   = (*StartTaskHandler)(nil)
	_ Handler[StartTasks, StartTasksResult] = (*StartTasksHandler)(nil)
	_ Handler[CancelTask, CancelTaskResult] = (*CancelTaskHandler)(nil)
	_ Handler[SetPlan, struct{}]            = (*SetPlanHandler)(nil)
)

// firstNil reports the first handler field of the handler set h (a struct
// of Handler fields) that is nil, as an error naming it and constructor,
// which builds complete sets; nil when h is complete.
func firstNil(h any, what, constructor string) error {
	v := reflect.ValueOf(h)
	for i := range v.NumField() {
		if v.Field(i).IsNil() {
			return fmt.Errorf("%s: %s is nil; build them with commands.%s", what, v.Type().Field(i).Name, constructor)
		}
	}
	return nil
}
