package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// Feed is what the relay reads of the event store.
type Feed interface {
	ReadFeed(ctx context.Context, from int64, limit int) ([]domain.Event, error)
	WaitFeed(ctx context.Context, pos int64) error
}

// Checkpoint keeps the relay's position across restarts: the first feed
// position not yet published.
type Checkpoint interface {
	Load(ctx context.Context) (int64, error)
	Save(ctx context.Context, next int64) error
}

// RelayBatch bounds the events read and published per step.
const RelayBatch = 1000

// Relay publishes the feed. Run it in one goroutine per process that relays.
type Relay struct {
	feed       Feed
	pub        message.Publisher
	checkpoint Checkpoint
	logger     *slog.Logger
}

// NewRelay returns a relay from feed to pub, resuming at checkpoint.
func NewRelay(feed Feed, pub message.Publisher, checkpoint Checkpoint, logger *slog.Logger) *Relay {
	if logger == nil {
		logger = slog.Default()
	}
	return &Relay{feed: feed, pub: pub, checkpoint: checkpoint, logger: logger}
}

// Run publishes the feed from the checkpoint until ctx ends, saving the
// checkpoint after each published batch. It returns ctx's error, or the
// first error it cannot retry.
func (r *Relay) Run(ctx context.Context) error {
	next, err := r.checkpoint.Load(ctx)
	if err != nil {
		return fmt.Errorf("relay: load checkpoint: %w", err)
	}
	for {
		if err := r.feed.WaitFeed(ctx, next); err != nil {
			return err
		}
		page, err := r.feed.ReadFeed(ctx, next, RelayBatch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.logger.Warn("relay: read feed", "from", next, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		for i := range page {
			e := &page[i]
			if e.Position != next {
				return fmt.Errorf("relay: feed position %d where %d was expected: the feed has a gap", e.Position, next)
			}
			if err := r.publish(e); err != nil {
				return fmt.Errorf("relay: publish position %d: %w", e.Position, err)
			}
			next++
		}
		if len(page) > 0 {
			if err := r.checkpoint.Save(ctx, next); err != nil {
				return fmt.Errorf("relay: save checkpoint: %w", err)
			}
		}
	}
}

func (r *Relay) publish(e *domain.Event) error {
	m, err := eventMessage(e)
	if err != nil {
		return err
	}
	if err := r.pub.Publish(TopicEvents, m); err != nil {
		return err
	}
	return publishTaskMessage(r.pub, e)
}

// publishTaskMessage publishes what e asks of the workers: a Work message
// for task.queued, a cancel Control message for task.cancel_requested.
func publishTaskMessage(pub message.Publisher, e *domain.Event) error {
	if e.Type != domain.TaskQueuedType && e.Type != domain.TaskCancelRequestedType {
		return nil
	}
	id, err := uuid.Parse(e.StreamID)
	if err != nil {
		return fmt.Errorf("task stream id %q: %w", e.StreamID, err)
	}
	topic, v := TopicControl, any(Control{Action: ActionCancel, TaskID: id, TenantID: e.TenantID, Position: e.Position})
	if e.Type == domain.TaskQueuedType {
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			return err
		}
		topic, v = TopicTasks, Work{TaskID: id, TenantID: e.TenantID, Attempt: p.(*domain.TaskQueued).Attempt, Position: e.Position}
	}
	m, err := jsonMessage(e, v)
	if err != nil {
		return err
	}
	return pub.Publish(topic, m)
}

// FileCheckpoint keeps a checkpoint in a file, replaced atomically on each
// save. It serves the embedded single-process mode.
type FileCheckpoint struct {
	Path string
}

// Load returns the saved position, or 0 when the file does not exist.
func (f FileCheckpoint) Load(context.Context) (int64, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("checkpoint file %s holds %q, not a position: remove it to relay from the start", f.Path, b)
	}
	return n, nil
}

// Save writes next durably: a temporary file, fsync, rename.
func (f FileCheckpoint) Save(_ context.Context, next int64) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".checkpoint-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(strconv.FormatInt(next, 10) + "\n"); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}
