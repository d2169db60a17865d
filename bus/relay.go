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
	"github.com/axontask/axontask/internal/backoff"
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

// relayMaxRetry bounds the pause between the relay's retries: a store or
// bus that comes back is used again within it.
const relayMaxRetry = time.Second

// DefaultLossCheckInterval is how often a relay with a LossWatch asks
// whether the bus lost its messages.
const DefaultLossCheckInterval = time.Second

// LossWatch lets a relay notice that the bus lost what was published on it
// (Redis restarted empty, was flushed, or evicted the bus's keys) and put
// right what consumers still need. See NewRedisLossCheck.
type LossWatch struct {
	// Lost reports whether the bus lost its messages since the last call.
	Lost func(ctx context.Context) (bool, error)
	// Recover is called after each loss: it gets what consumers need from
	// the store again (the queued tasks' work, which workers would
	// otherwise wait for until the watchdog adopts them). Live streams
	// fill their gaps from the store themselves, and cancels reach running
	// tasks through their lease checks, so neither needs it.
	Recover func(ctx context.Context) error
	// Interval is how often Lost is asked (default DefaultLossCheckInterval).
	Interval time.Duration
}

// Relay publishes the feed. Run it in one goroutine per process that relays.
type Relay struct {
	feed       Feed
	pub        message.Publisher
	checkpoint Checkpoint
	logger     *slog.Logger
	loss       LossWatch
}

// NewRelay returns a relay from feed to pub, resuming at checkpoint.
func NewRelay(feed Feed, pub message.Publisher, checkpoint Checkpoint, logger *slog.Logger) *Relay {
	if logger == nil {
		logger = slog.Default()
	}
	return &Relay{feed: feed, pub: pub, checkpoint: checkpoint, logger: logger}
}

// WatchLoss makes Run watch the bus for lost messages (see LossWatch) and
// returns r. Call it before Run.
func (r *Relay) WatchLoss(w LossWatch) *Relay {
	if w.Interval <= 0 {
		w.Interval = DefaultLossCheckInterval
	}
	r.loss = w
	return r
}

// RelayCheckpointInterval bounds how long the relay's checkpoint lags
// what it published while the feed keeps moving: one write per interval,
// not one per page. A relay that restarts publishes at most that much
// again (consumers are idempotent); one that has nothing more to publish
// saves when the interval ends, and one that stops saves at once.
const RelayCheckpointInterval = 100 * time.Millisecond

// Run publishes the feed from the checkpoint until ctx ends, saving the
// checkpoint at most every RelayCheckpointInterval, and watches the bus
// for losses when WatchLoss asked it to. A store or bus that fails is
// retried with backoff, in place: Run logs once when a dependency starts
// failing and once when it works again, and keeps its place (and its
// election) meanwhile. It returns ctx's error, or the first error it
// cannot retry.
func (r *Relay) Run(ctx context.Context) error {
	readRetry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "relay: read the feed", Logger: r.logger, Max: relayMaxRetry}
	next, err := r.loadCheckpoint(ctx, readRetry)
	if err != nil {
		return err
	}
	if r.loss.Lost != nil {
		stop := r.watchLoss(ctx)
		defer stop()
	}
	publishRetry := &backoff.Retry{Dependency: backoff.DependencyBus, What: "relay: publish to the bus", Logger: r.logger, Max: relayMaxRetry}
	saveRetry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "relay: save the checkpoint", Logger: r.logger, Max: relayMaxRetry}
	saved, lastSave := next, time.Now()
	save := func(ctx context.Context) error {
		for saved < next {
			err := r.checkpoint.Save(ctx, next)
			if err == nil {
				saveRetry.Succeeded()
				saved, lastSave = next, time.Now()
				break
			}
			if err := saveRetry.Failed(ctx, err); err != nil {
				return err
			}
		}
		return nil
	}
	defer func() {
		// Stopping: what was published is not published again, if one
		// save can tell (no retries: the relay is going away).
		if saved < next {
			saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayMaxRetry)
			defer cancel()
			_ = r.checkpoint.Save(saveCtx, next)
		}
	}()
	for {
		// While a save is due, wait for the feed no longer than until it
		// is: a feed that stays still gets its checkpoint then.
		waitCtx, cancel := ctx, context.CancelFunc(func() {})
		if saved < next {
			waitCtx, cancel = context.WithTimeout(ctx, RelayCheckpointInterval-time.Since(lastSave))
		}
		err := r.feed.WaitFeed(waitCtx, next)
		cancel()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case waitCtx.Err() != nil:
				if err := save(ctx); err != nil {
					return err
				}
			default:
				_ = readRetry.Failed(ctx, err)
			}
			continue
		}
		page, err := r.feed.ReadFeed(ctx, next, RelayBatch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			_ = readRetry.Failed(ctx, err)
			continue
		}
		readRetry.Succeeded()
		announced := r.announced(ctx, page)
		out := make([]Outgoing, 0, 2*len(page))
		for i := range page {
			e := &page[i]
			if e.Position != next+int64(i) {
				return fmt.Errorf("relay: feed position %d where %d was expected: the feed has a gap", e.Position, next+int64(i))
			}
			if out, err = appendRelayed(out, e, announced[e.EventID.String()]); err != nil {
				return err
			}
		}
		for len(out) > 0 {
			err := PublishAll(ctx, r.pub, out)
			if err == nil {
				publishRetry.Succeeded()
				break
			}
			if err := publishRetry.Failed(ctx, err); err != nil {
				return err
			}
		}
		next += int64(len(page))
		if time.Since(lastSave) >= RelayCheckpointInterval {
			if err := save(ctx); err != nil {
				return err
			}
		}
	}
}

// loadCheckpoint loads the checkpoint, retrying while it fails (a store
// out of reach; a checkpoint that cannot be read is logged, and waits for
// the operator).
func (r *Relay) loadCheckpoint(ctx context.Context, retry *backoff.Retry) (int64, error) {
	for {
		next, err := r.checkpoint.Load(ctx)
		if err == nil {
			retry.Succeeded()
			return next, nil
		}
		if err := retry.Failed(ctx, fmt.Errorf("load checkpoint: %w", err)); err != nil {
			return 0, err
		}
	}
}

// announced returns the task.queued events of page whose Work message
// the announcer published (see Announcements), by event id: the relay
// publishes those again only when it cannot tell.
func (r *Relay) announced(ctx context.Context, page []domain.Event) map[string]bool {
	marks, ok := r.pub.(Announcements)
	if !ok {
		return nil
	}
	var ids []string
	for i := range page {
		if page[i].Type == domain.TaskQueuedType {
			ids = append(ids, page[i].EventID.String())
		}
	}
	marked, err := marks.Announced(ctx, ids)
	if err != nil {
		r.logger.Debug("relay: the announcement marks could not be read; every Work message is published", "err", err)
		return nil
	}
	announced := make(map[string]bool, len(ids))
	for i, id := range ids {
		announced[id] = marked[i]
	}
	return announced
}

// appendRelayed appends to out what the relay publishes of e: its envelope
// on TopicEvents, and the Work or Control message it asks for, but for a
// Work message already announced.
func appendRelayed(out []Outgoing, e *domain.Event, announced bool) ([]Outgoing, error) {
	m, err := eventMessage(e)
	if err != nil {
		return out, fmt.Errorf("relay: position %d: %w", e.Position, err)
	}
	out = append(out, Outgoing{TopicEvents, m})
	topic, tm, err := taskMessage(e)
	if err != nil {
		return out, fmt.Errorf("relay: position %d: %w", e.Position, err)
	}
	if tm != nil && (!announced || topic != TopicTasks) {
		out = append(out, Outgoing{topic, tm})
	}
	return out, nil
}

// watchLoss asks the LossWatch every Interval whether the bus lost its
// messages, and recovers after each loss, until the returned stop is
// called or ctx ends.
func (r *Relay) watchLoss(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		checkRetry := &backoff.Retry{Dependency: backoff.DependencyBus, What: "relay: check the bus for lost messages", Logger: r.logger}
		recoverRetry := &backoff.Retry{Dependency: backoff.DependencyStore, What: "relay: recover what the bus lost", Logger: r.logger}
		ticker := time.NewTicker(r.loss.Interval)
		defer ticker.Stop()
		for {
			lost, err := r.loss.Lost(ctx)
			if err == nil {
				checkRetry.Succeeded()
			} else if ctx.Err() == nil {
				checkRetry.Note(ctx, err) // the ticker paces the checks
			}
			if lost {
				r.logger.Warn("relay: the bus lost its messages (Redis restarted empty, was flushed or evicted them); re-queuing the queued tasks from the store")
				for {
					err := r.loss.Recover(ctx)
					if err == nil {
						recoverRetry.Succeeded()
						break
					}
					if recoverRetry.Failed(ctx, err) != nil {
						return
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// taskMessage renders what e asks of the workers: a Work message on
// TopicTasks for task.queued, a cancel Control message on TopicControl for
// task.cancel_requested, nothing (a nil message) for other events.
func taskMessage(e *domain.Event) (string, *message.Message, error) {
	if e.Type != domain.TaskQueuedType && e.Type != domain.TaskCancelRequestedType {
		return "", nil, nil
	}
	id, err := uuid.Parse(e.StreamID)
	if err != nil {
		return "", nil, fmt.Errorf("task stream id %q: %w", e.StreamID, err)
	}
	topic, v := TopicControl, any(Control{Action: ActionCancel, TaskID: id, TenantID: e.TenantID, Position: e.Position})
	if e.Type == domain.TaskQueuedType {
		p, err := domain.Decode(e.Type, e.Payload)
		if err != nil {
			return "", nil, err
		}
		topic, v = TopicTasks, Work{TaskID: id, TenantID: e.TenantID, Attempt: p.(*domain.TaskQueued).Attempt, Position: e.Position}
	}
	m, err := jsonMessage(e, v)
	return topic, m, err
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
