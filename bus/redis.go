package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/axontask/axontask/internal/backoff"
)

// WorkersGroup is the consumer group of workers on TopicTasks. It never
// changes: renaming it would deliver every queued task again.
const WorkersGroup = "axontask-workers"

// DefaultMaxLen bounds each Redis stream (approximately): consumers that
// fall further behind than this backfill from the event store.
const DefaultMaxLen = 100_000

// RedisConfig configures the Redis Streams bus.
type RedisConfig struct {
	Client redis.UniversalClient
	// Prefix is put before every stream name, so that several deployments
	// (or tests) can share one Redis.
	Prefix string
	// MaxLen bounds each stream (default DefaultMaxLen).
	MaxLen int64
	Logger *slog.Logger
}

// slogger returns the configured logger, or slog.Default().
func (c RedisConfig) slogger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

func (c RedisConfig) logger() watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(c.slogger(), map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}

// NewRedisPublisher returns a publisher on Redis Streams.
func NewRedisPublisher(c RedisConfig) (message.Publisher, error) {
	maxLen := c.MaxLen
	if maxLen == 0 {
		maxLen = DefaultMaxLen
	}
	p, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: c.Client, DefaultMaxlen: maxLen}, c.logger())
	if err != nil {
		return nil, fmt.Errorf("redis publisher: %w", err)
	}
	return redisPublisher{prefixedPublisher{p, c.Prefix}, c.Client, maxLen}, nil
}

// redisPublisher is the bus's publisher on Redis Streams: Watermill's, and
// PublishBatch, which writes the same entries in one round trip.
type redisPublisher struct {
	prefixedPublisher
	client redis.UniversalClient
	maxLen int64
}

// announcedTTL is how long the Redis bus remembers that the announcer
// published a Work message: the relay, which follows the feed a few
// milliseconds behind, skips those it finds marked; one further behind
// publishes them again, as it would without the marks.
const announcedTTL = 30 * time.Second

// announcedKey is the key that marks the Work message of event eventID
// as announced.
func (p redisPublisher) announcedKey(eventID string) string {
	return p.prefix + "axontask.announced." + eventID
}

// PublishAnnounced implements Announcements: one MULTI/EXEC of the
// XADDs and of a mark (SET … EX announcedTTL) per Work message, after the
// XADDs, so that a mark is never seen without its message.
func (p redisPublisher) PublishAnnounced(ctx context.Context, msgs []Outgoing) error {
	pipe := p.client.TxPipeline()
	if err := p.queue(ctx, pipe, msgs); err != nil {
		return err
	}
	for _, o := range msgs {
		if o.Topic == TopicTasks {
			pipe.Set(ctx, p.announcedKey(o.Msg.UUID), "1", announcedTTL)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("publish %d messages: %w", len(msgs), err)
	}
	return nil
}

// Announced implements Announcements: one MGET.
func (p redisPublisher) Announced(ctx context.Context, eventIDs []string) ([]bool, error) {
	if len(eventIDs) == 0 {
		return nil, nil
	}
	keys := make([]string, len(eventIDs))
	for i, id := range eventIDs {
		keys[i] = p.announcedKey(id)
	}
	vals, err := p.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read the announcement marks: %w", err)
	}
	marked := make([]bool, len(vals))
	for i, v := range vals {
		marked[i] = v != nil
	}
	return marked, nil
}

// queue adds the XADDs of msgs to pipe.
func (p redisPublisher) queue(ctx context.Context, pipe redis.Pipeliner, msgs []Outgoing) error {
	var marshaller redisstream.DefaultMarshallerUnmarshaller
	for _, o := range msgs {
		values, err := marshaller.Marshal(o.Topic, o.Msg)
		if err != nil {
			return fmt.Errorf("publish to %s: %w", o.Topic, err)
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: p.prefix + o.Topic, Values: values, MaxLen: p.maxLen, Approx: true})
	}
	return nil
}

// PublishBatch implements BatchPublisher: one pipeline of the XADDs
// Watermill's Publish sends one at a time (its marshaller, each stream
// trimmed to about maxLen), so that Watermill's subscribers read them as
// they read its own. Redis runs a pipeline's commands in order; when one
// fails, PublishBatch returns the first error, and those before it may be
// published.
func (p redisPublisher) PublishBatch(ctx context.Context, msgs []Outgoing) error {
	pipe := p.client.Pipeline()
	if err := p.queue(ctx, pipe, msgs); err != nil {
		return err
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("publish %d messages: %w", len(msgs), err)
	}
	return nil
}

// NewRedisWorkSubscriber returns the subscriber a worker takes work with:
// the WorkersGroup consumer group, so each task goes to one worker, and
// messages a dead consumer left pending are claimed by another.
//
// A Redis that restarted empty has lost the group with the stream: a read
// that answers NOGROUP creates both again, from the stream's first entry
// (what the relay publishes anew), and reading goes on. Failed reads are
// logged once per outage, not once per attempt (watermill-redisstream logs
// each), and the outage's end once Redis answers again.
func NewRedisWorkSubscriber(c RedisConfig, consumer string) (message.Subscriber, error) {
	w := &workGroup{
		cfg: c, streams: map[string]bool{}, closing: make(chan struct{}),
		retry: &backoff.Retry{Dependency: backoff.DependencyBus, What: "bus: read the work stream", Logger: c.slogger()},
	}
	s, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client: c.Client, Consumer: consumer, ConsumerGroup: WorkersGroup, OldestId: workGroupStart,
		DisableIndefiniteInitialBlock: true,
		ShouldStopOnReadErrors:        w.readFailed,
	}, quietReads{c.logger(), w.failed})
	if err != nil {
		return nil, fmt.Errorf("redis work subscriber: %w", err)
	}
	return prefixedSubscriber{&trackedSubscriber{s, w}, c.Prefix}, nil
}

// workGroupStart is where WorkersGroup starts reading a stream it is
// created on: its first entry.
const workGroupStart = "0"

// workRecoveryPoll is how often a work subscriber whose reads fail asks
// Redis whether it answers again.
const workRecoveryPoll = 500 * time.Millisecond

// workGroup recreates WorkersGroup on the streams a work subscriber reads
// when Redis lost them, and tells retry when Redis answers again (the
// reads that succeed are not seen: watermill-redisstream reports only
// failures).
type workGroup struct {
	cfg     RedisConfig
	retry   *backoff.Retry
	closing chan struct{}

	mu       sync.Mutex
	streams  map[string]bool
	watching bool // a goroutine waits for Redis to answer
	closed   bool
	wg       sync.WaitGroup
}

// trackedSubscriber notes each stream its subscriber subscribes to.
type trackedSubscriber struct {
	message.Subscriber
	w *workGroup
}

func (t *trackedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	t.w.mu.Lock()
	t.w.streams[topic] = true
	t.w.mu.Unlock()
	return t.Subscriber.Subscribe(ctx, topic)
}

// Close closes the subscriber and stops waiting for Redis.
func (t *trackedSubscriber) Close() error {
	t.w.mu.Lock()
	if !t.w.closed {
		t.w.closed = true
		close(t.w.closing)
	}
	t.w.mu.Unlock()
	t.w.wg.Wait()
	return t.Subscriber.Close()
}

// readFailed creates the group again when a read says it is gone, notes
// the failure, and never stops the reads: they go on until the subscriber
// closes. It runs as the read fails (watermill-redisstream logs the
// failure only after its pause, too late to note).
func (w *workGroup) readFailed(err error) bool {
	if strings.HasPrefix(err.Error(), "NOGROUP") {
		w.recreate()
	}
	w.failed(err)
	return false
}

// failed notes a failed call to Redis and has its recovery watched for.
func (w *workGroup) failed(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, redis.ErrClosed) {
		return // a shutdown, not an outage
	}
	w.retry.Note(context.Background(), err)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.watching && !w.closed {
		w.watching = true
		w.wg.Add(1)
		go w.awaitRecovery()
	}
}

// recreate creates WorkersGroup, and its stream, wherever it is missing.
func (w *workGroup) recreate() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	for stream := range w.streams {
		err := w.cfg.Client.XGroupCreateMkStream(ctx, stream, WorkersGroup, workGroupStart).Err()
		if err == nil {
			w.cfg.slogger().Warn("bus: Redis lost the work stream's consumer group (restarted empty?); created it again", "stream", stream, "group", WorkersGroup)
		} else if !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			w.cfg.slogger().Debug("bus: create the work stream's consumer group", "stream", stream, "err", err)
		}
	}
}

// awaitRecovery asks Redis every workRecoveryPoll whether the group can be
// read, and reports the outage over once it can.
func (w *workGroup) awaitRecovery() {
	defer w.wg.Done()
	t := time.NewTicker(workRecoveryPoll)
	defer t.Stop()
	for {
		select {
		case <-w.closing:
			return
		case <-t.C:
		}
		if w.readable() {
			w.mu.Lock()
			w.watching = false
			w.mu.Unlock()
			w.retry.Succeeded()
			return
		}
	}
}

// readable reports whether every stream read has WorkersGroup.
func (w *workGroup) readable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	for stream := range w.streams {
		if err := w.cfg.Client.XInfoGroups(ctx, stream).Err(); err != nil {
			return false
		}
	}
	return true
}

// quietReads passes watermill-redisstream's logs on, except the failures
// it logs on every attempt: a failed read was noted already (readFailed),
// and a failed claim goes to failed, which logs an outage once.
type quietReads struct {
	watermill.LoggerAdapter
	failed func(error)
}

func (q quietReads) Error(msg string, err error, fields watermill.LogFields) {
	switch msg {
	case "read fail":
		return
	case "xpendingext fail", "xclaim fail":
		q.failed(err)
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q quietReads) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietReads{q.LoggerAdapter.With(fields), q.failed}
}

// Bounds of a fan-out subscription's reads.
const (
	// fanOutBatch is the most entries one XREAD returns: a subscriber
	// that fell behind catches up in batches, not one round trip each.
	fanOutBatch = 256
	// fanOutBlock is how long one XREAD waits for news; Close and the
	// context are looked at between reads, so it bounds how long they take.
	fanOutBlock = 200 * time.Millisecond
	// fanOutMaxRetry bounds the pause after failed reads: a Redis that
	// comes back is read again within it.
	fanOutMaxRetry = time.Second
)

// NewRedisFanOutSubscriber returns a subscriber that sees every message
// published after it subscribes (no consumer group): for cancels, which
// every worker must see.
//
// Each Subscribe starts after the stream's last entry at that moment, by
// its id, and reads on from the last id it delivered, up to fanOutBatch
// entries per XREAD. (watermill-redisstream's fan-out reads one entry per
// round trip and reads "$" afresh until its first message, which loses what
// is published in between.) Messages are decoded by
// redisstream.DefaultMarshallerUnmarshaller. Nothing is redelivered: Ack and
// Nack are not waited for, and a consumer must keep up with its channel or
// hold back the reads of that subscription only.
//
// Reads that fail are retried with backoff, logged once per outage. When
// Redis comes back without the stream (restarted empty), reading starts
// over from the new stream's first entry. What was published while Redis
// was away is lost to the subscriber.
func NewRedisFanOutSubscriber(c RedisConfig) (message.Subscriber, error) {
	return newFanOut(c, false)
}

// NewRedisLiveSubscriber is NewRedisFanOutSubscriber for an SSE hub: after
// its reads failed and work again, each subscription also delivers a
// resync message (IsResync), for the hub to read from the store what its
// streams missed meanwhile.
func NewRedisLiveSubscriber(c RedisConfig) (message.Subscriber, error) {
	return newFanOut(c, true)
}

// MetaResync marks a resync message (see NewRedisLiveSubscriber).
const MetaResync = "resync"

// IsResync reports whether m is a resync message: it carries no event, but
// says that messages may have been lost before it.
func IsResync(m *message.Message) bool { return m.Metadata.Get(MetaResync) != "" }

func newFanOut(c RedisConfig, resync bool) (*fanOutSubscriber, error) {
	if c.Client == nil {
		return nil, fmt.Errorf("redis fan-out subscriber: no client")
	}
	return &fanOutSubscriber{
		cfg: c, logger: c.slogger(), closing: make(chan struct{}), resync: resync,
		retry: &backoff.Retry{Dependency: backoff.DependencyBus, What: "bus: read the fan-out streams", Logger: c.slogger(), Max: fanOutMaxRetry},
	}, nil
}

type fanOutSubscriber struct {
	cfg     RedisConfig
	logger  *slog.Logger
	closing chan struct{}
	resync  bool
	// retry paces and logs the failed reads of every subscription: an
	// outage of Redis is one line, not one per topic.
	retry *backoff.Retry
	// restarts counts the restarts of Redis seen (watchRestarts).
	restarts atomic.Int64
	// mu orders starting readers against Close: none starts after it.
	mu       sync.Mutex
	closed   bool
	watching bool // watchRestarts runs
	wg       sync.WaitGroup
}

func (f *fanOutSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	stream := f.cfg.Prefix + topic
	start, err := f.lastID(ctx, stream)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message, fanOutBatch)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("redis fan-out subscriber: closed")
	}
	if !f.watching {
		// go-redis hides a restart that falls between two reads (it
		// reconnects and retries): the server's run id tells. The first
		// is read now, so that no restart after Subscribe goes unseen.
		runID, err := f.runID(ctx)
		if err != nil {
			return nil, err
		}
		f.watching = true
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.watchRestarts(runID)
		}()
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(out)
		f.read(ctx, stream, start, out)
	}()
	return out, nil
}

// fanOutRestartPoll is how often a fan-out subscriber asks Redis for its
// run id, which changes when the server restarts.
const fanOutRestartPoll = 500 * time.Millisecond

// watchRestarts bumps f.restarts whenever Redis's run id changes from
// known, until the subscriber closes.
func (f *fanOutSubscriber) watchRestarts(known string) {
	ticker := time.NewTicker(fanOutRestartPoll)
	defer ticker.Stop()
	for {
		select {
		case <-f.closing:
			return
		case <-ticker.C:
		}
		if id, err := f.runID(context.Background()); err == nil && id != known {
			f.restarts.Add(1)
			known = id
		}
	}
}

// runID returns the run id of the Redis server, which changes when it
// restarts.
func (f *fanOutSubscriber) runID(ctx context.Context) (string, error) {
	info, err := f.cfg.Client.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("read the Redis server's run id: %w", err)
	}
	return infoField(info, "run_id"), nil
}

// infoField returns the value of field in the text of an INFO answer.
func infoField(info, field string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// lastID returns the id of stream's last entry, "0-0" when it has none.
func (f *fanOutSubscriber) lastID(ctx context.Context, stream string) (string, error) {
	last, err := f.cfg.Client.XRevRangeN(ctx, stream, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("read the last id of %s: %w", stream, err)
	}
	if len(last) == 1 {
		return last[0].ID, nil
	}
	return "0-0", nil
}

// read sends stream's entries after id from to out until ctx ends or the
// subscriber closes.
func (f *fanOutSubscriber) read(ctx context.Context, stream, from string, out chan<- *message.Message) {
	var unmarshal redisstream.DefaultMarshallerUnmarshaller
	failed := false // the last call to Redis failed
	restarts := f.restarts.Load()
	send := func(m *message.Message) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
		case <-f.closing:
		}
		return false
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.closing:
			return
		default:
		}
		if n := f.restarts.Load(); n != restarts {
			restarts, failed = n, true // as good as failed: the stream may be gone
		}
		if failed {
			// Redis is back, perhaps without the stream: a stream that ends
			// before from was made anew, and is read from its start.
			last, err := f.lastID(ctx, stream)
			if err != nil {
				if ctx.Err() != nil || f.wait(ctx, err) {
					return
				}
				continue
			}
			if streamIDLess(last, from) {
				from = "0-0"
			}
			failed = false
			if f.resync && !send(resyncMessage()) {
				return
			}
		}
		res, err := f.cfg.Client.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, from}, Count: fanOutBatch, Block: fanOutBlock}).Result()
		if errors.Is(err, redis.Nil) {
			f.retry.Succeeded()
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failed = true
			if f.wait(ctx, err) {
				return
			}
			continue
		}
		f.retry.Succeeded()
		for _, xs := range res {
			for i := range xs.Messages {
				xm := &xs.Messages[i]
				from = xm.ID
				msg, err := unmarshal.Unmarshal(xm.Values)
				if err != nil {
					f.logger.Warn("bus: drop an undecodable fan-out entry", "stream", stream, "id", xm.ID, "err", err)
					continue
				}
				msg.SetContext(ctx)
				if !send(msg) {
					return
				}
			}
		}
	}
}

// wait notes a failed call and waits before the next; it reports whether
// the subscription must end instead (ctx ended or the subscriber closed).
func (f *fanOutSubscriber) wait(ctx context.Context, err error) bool {
	t := time.NewTimer(f.retry.Note(ctx, err))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return true
	case <-f.closing:
		return true
	case <-t.C:
		return false
	}
}

// resyncMessage is the message IsResync recognizes.
func resyncMessage() *message.Message {
	m := message.NewMessage(watermill.NewUUID(), nil)
	m.Metadata.Set(MetaResync, "1")
	return m
}

// streamIDLess reports whether Redis stream id a ("ms-seq") sorts before b.
func streamIDLess(a, b string) bool {
	am, as := splitStreamID(a)
	bm, bs := splitStreamID(b)
	return am < bm || am == bm && as < bs
}

func splitStreamID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}

// Close ends every subscription and waits for their readers.
func (f *fanOutSubscriber) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.closing)
	}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

// prefixedPublisher and prefixedSubscriber put the deployment's prefix
// before every topic.
type prefixedPublisher struct {
	message.Publisher
	prefix string
}

func (p prefixedPublisher) Publish(topic string, msgs ...*message.Message) error {
	return p.Publisher.Publish(p.prefix+topic, msgs...)
}

type prefixedSubscriber struct {
	message.Subscriber
	prefix string
}

func (s prefixedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.Subscriber.Subscribe(ctx, s.prefix+topic)
}

// lossMarker is the key, beside the bus's streams, whose absence tells that
// Redis lost them (NewRedisLossCheck).
const lossMarker = "axontask.bus.marker"

// NewRedisLossCheck returns a LossWatch.Lost for the Redis bus of c: it
// keeps a marker key beside the streams (SET NX, one round trip) and
// reports a loss whenever it had to set it again — Redis restarted empty,
// was flushed, or evicted the key, and the streams with it. The first call
// on a new Redis reports a loss too, which costs one needless recovery.
func NewRedisLossCheck(c RedisConfig) func(ctx context.Context) (bool, error) {
	key := c.Prefix + lossMarker
	return func(ctx context.Context) (bool, error) {
		set, err := c.Client.SetNX(ctx, key, time.Now().UTC().Format(time.RFC3339), 0).Result()
		if err != nil {
			return false, fmt.Errorf("check the bus marker %s: %w", key, err)
		}
		return set, nil
	}
}
