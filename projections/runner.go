package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/backoff"
)

// Defaults and limits of RunnerConfig.
const (
	// DefaultBatch is how many feed events one transaction applies.
	DefaultBatch = 1000
	// MaxBatch bounds RunnerConfig.Batch.
	MaxBatch = 1000
	// DefaultRetryDelay is the first pause after a failed batch; it doubles
	// up to maxRetryDelay.
	DefaultRetryDelay = 100 * time.Millisecond
	maxRetryDelay     = 5 * time.Second
)

// Feed is the part of the event store a Runner reads (eventstore.Store has it).
type Feed interface {
	// ReadFeed returns up to limit events with position >= from, in order.
	ReadFeed(ctx context.Context, from int64, limit int) ([]domain.Event, error)
	// WaitFeed blocks until the feed holds an event at pos, or ctx ends.
	WaitFeed(ctx context.Context, pos int64) error
	// FeedHead returns the position the next event takes.
	FeedHead(ctx context.Context) (int64, error)
}

// Projection is a read model a Runner keeps: its rows and checkpoint.
type Projection interface {
	// Name names the projection in logs and errors.
	Name() string
	// Checkpoint returns the next feed position the projection will apply.
	Checkpoint(ctx context.Context) (int64, error)
	// Apply applies events (positions from, from+1, …) and moves the
	// checkpoint to from+len(events) in one transaction; it fails with an
	// error that errors.Is ErrCheckpointMoved, changing nothing, when the
	// checkpoint is not at from.
	Apply(ctx context.Context, from int64, events []domain.Event) error
	// Reset empties the read model and sets its checkpoint to 0.
	Reset(ctx context.Context) error
}

// TaskViews returns the task list read model kept in store.
func TaskViews(store TaskViewStore) Projection { return taskViews{store} }

type taskViews struct{ store TaskViewStore }

func (p taskViews) Name() string { return TaskViewsName }
func (p taskViews) Checkpoint(ctx context.Context) (int64, error) {
	return p.store.TaskViewsCheckpoint(ctx, TaskViewsName)
}
func (p taskViews) Apply(ctx context.Context, from int64, events []domain.Event) error {
	return p.store.TaskViewsApply(ctx, TaskViewsName, from, events)
}
func (p taskViews) Reset(ctx context.Context) error {
	return p.store.TaskViewsReset(ctx, TaskViewsName)
}

// RunnerConfig configures a Runner. The zero value is usable.
type RunnerConfig struct {
	// Batch bounds the events one transaction applies (default and
	// maximum DefaultBatch).
	Batch int
	// RetryDelay is the first pause after a failed batch (default
	// DefaultRetryDelay); it doubles up to 5 s while failures repeat.
	RetryDelay time.Duration
	// Logger receives failed batches, once per failure (default slog.Default()).
	Logger *slog.Logger
}

func (c RunnerConfig) withDefaults() RunnerConfig {
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c RunnerConfig) validate() error {
	switch {
	case c.Batch < 1 || c.Batch > MaxBatch:
		return fmt.Errorf("projections runner config: Batch is %d; it must be between 1 and %d", c.Batch, MaxBatch)
	case c.RetryDelay < 0:
		return fmt.Errorf("projections runner config: RetryDelay is %s; it must be positive", c.RetryDelay)
	}
	return nil
}

// Runner keeps one projection up to date with the feed. Several Runners of
// one projection, in one process or several, are safe: each batch applies
// once (the checkpoint decides), and a Runner that loses a race re-reads the
// checkpoint and goes on. Its methods must not run concurrently with each
// other on one Runner.
type Runner struct {
	feed Feed
	proj Projection
	cfg  RunnerConfig
}

// NewRunner returns a Runner that applies feed to proj. It fails when cfg,
// with its defaults, cannot work.
func NewRunner(feed Feed, proj Projection, cfg RunnerConfig) (*Runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if feed == nil || proj == nil {
		return nil, errors.New("projections runner: feed and projection are required")
	}
	return &Runner{feed: feed, proj: proj, cfg: cfg}, nil
}

// Run applies the feed to the projection, from its checkpoint, until ctx
// ends, and then returns ctx's error. It waits for new events without
// polling, and retries failed batches with a growing, jittered pause,
// logging once when batches start failing and once when they work again.
func (r *Runner) Run(ctx context.Context) error {
	retry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "projection " + r.proj.Name() + ": apply the feed", Logger: r.cfg.Logger, Min: r.cfg.RetryDelay, Max: maxRetryDelay}
	pos := int64(-1) // the checkpoint as this runner knows it; -1: read it
	for {
		var n int
		var err error
		if pos < 0 {
			pos, err = r.proj.Checkpoint(ctx)
		}
		if err == nil {
			n, err = r.step(ctx, pos, -1)
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrCheckpointMoved):
			pos = -1 // another runner or a reset moved it: read it again
			continue
		case err != nil:
			pos = -1
			if err := retry.Failed(ctx, err); err != nil {
				return err
			}
			continue
		}
		retry.Succeeded()
		pos += int64(n)
		if n == 0 {
			err := r.feed.WaitFeed(ctx, pos)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				if err := retry.Failed(ctx, err); err != nil {
					return err
				}
			}
		}
	}
}

// CatchUp applies the feed up to its head at the time of the call and
// returns the projection's checkpoint then (at least that head).
func (r *Runner) CatchUp(ctx context.Context) (int64, error) {
	head, err := r.feed.FeedHead(ctx)
	if err != nil {
		return 0, fmt.Errorf("catch up %s: %w", r.proj.Name(), err)
	}
	pos, err := r.proj.Checkpoint(ctx)
	for err == nil && pos < head {
		var n int
		n, err = r.step(ctx, pos, head)
		pos += int64(n)
		if errors.Is(err, ErrCheckpointMoved) {
			pos, err = r.proj.Checkpoint(ctx)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("catch up %s: %w", r.proj.Name(), err)
	}
	return pos, nil
}

// Rebuild empties the projection and applies the feed again from position
// 0 up to its head at the time of the call. Readers see a partial list while
// it runs; a Runner running meanwhile continues from where the rebuild is.
func (r *Runner) Rebuild(ctx context.Context) error {
	if err := r.proj.Reset(ctx); err != nil {
		return fmt.Errorf("rebuild %s: %w", r.proj.Name(), err)
	}
	_, err := r.CatchUp(ctx)
	return err
}

// step applies one batch from pos, the checkpoint, of events before until
// (unless until < 0), and returns how many it applied. When the checkpoint
// is no longer at pos it fails with ErrCheckpointMoved and applies nothing.
func (r *Runner) step(ctx context.Context, pos, until int64) (int, error) {
	limit := r.cfg.Batch
	if until >= 0 {
		limit = int(min(int64(limit), until-pos))
		if limit <= 0 {
			return 0, nil
		}
	}
	events, err := r.feed.ReadFeed(ctx, pos, limit)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	if err := r.proj.Apply(ctx, pos, events); err != nil {
		return 0, err
	}
	return len(events), nil
}
