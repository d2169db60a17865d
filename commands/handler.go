package commands

import (
	"context"
	"log/slog"
	"reflect"
	"time"
)

// Handler handles commands of type C with results of type R: the one shape
// of every command handler of this package (StartTaskHandler,
// CancelTaskHandler, SetPlanHandler). Wrap handlers once, where they are
// built, with Decorate.
type Handler[C, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// MetricsClient counts what handlers do; declared here, by its consumer,
// so that any metrics system can stand behind it. Inc must be safe for
// concurrent use.
type MetricsClient interface {
	Inc(key string, value int)
}

// Decorate wraps h with logging and metrics, the concerns every handler
// shares. Each command is logged at debug level with its name, outcome and
// duration, never its fields (they may hold credentials); failures are
// not logged as errors here, since the caller that answers them logs them.
// metrics counts "<command>.success" or "<command>.failure" and adds the
// duration in microseconds to "<command>.duration_us"; nil counts nothing.
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
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	if d.logger != nil {
		d.logger.DebugContext(ctx, "command handled", "command", d.name, "outcome", outcome, "took", took, "err", err)
	}
	if d.metrics != nil {
		d.metrics.Inc(d.name+"."+outcome, 1)
		d.metrics.Inc(d.name+".duration_us", int(took.Microseconds()))
	}
	return res, err
}

// The handlers of this package have the one shape.
var (
	_ Handler[StartTask, StartTaskResult]   = (*StartTaskHandler)(nil)
	_ Handler[CancelTask, CancelTaskResult] = (*CancelTaskHandler)(nil)
	_ Handler[SetPlan, struct{}]            = (*SetPlanHandler)(nil)
)
