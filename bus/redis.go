package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
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
	return prefixedPublisher{p, c.Prefix}, nil
}

// NewRedisWorkSubscriber returns the subscriber a worker takes work with:
// the WorkersGroup consumer group, so each task goes to one worker, and
// messages a dead consumer left pending are claimed by another.
func NewRedisWorkSubscriber(c RedisConfig, consumer string) (message.Subscriber, error) {
	s, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client: c.Client, Consumer: consumer, ConsumerGroup: WorkersGroup, OldestId: "0",
		DisableIndefiniteInitialBlock: true,
	}, c.logger())
	if err != nil {
		return nil, fmt.Errorf("redis work subscriber: %w", err)
	}
	return prefixedSubscriber{s, c.Prefix}, nil
}

// Bounds of a fan-out subscription's reads.
const (
	// fanOutBatch is the most entries one XREAD returns: a subscriber
	// that fell behind catches up in batches, not one round trip each.
	fanOutBatch = 256
	// fanOutBlock is how long one XREAD waits for news; Close and the
	// context are looked at between reads, so it bounds how long they take.
	fanOutBlock = 200 * time.Millisecond
	// fanOutRetry is the pause after a failed read.
	fanOutRetry = 500 * time.Millisecond
)

// NewRedisFanOutSubscriber returns a subscriber that sees every message
// published after it subscribes (no consumer group): for cancels, which
// every worker must see, and for the live events every API process's hub
// fans out.
//
// Each Subscribe starts after the stream's last entry at that moment, by
// its id, and reads on from the last id it delivered, up to fanOutBatch
// entries per XREAD. (watermill-redisstream's fan-out reads one entry per
// round trip and reads "$" afresh until its first message, which loses what
// is published in between.) Messages are decoded by
// redisstream.DefaultMarshallerUnmarshaller. Nothing is redelivered: Ack and
// Nack are not waited for, and a consumer must keep up with its channel or
// hold back the reads of that subscription only.
func NewRedisFanOutSubscriber(c RedisConfig) (message.Subscriber, error) {
	if c.Client == nil {
		return nil, fmt.Errorf("redis fan-out subscriber: no client")
	}
	return &fanOutSubscriber{cfg: c, logger: c.slogger(), closing: make(chan struct{})}, nil
}

type fanOutSubscriber struct {
	cfg     RedisConfig
	logger  *slog.Logger
	closing chan struct{}
	// mu orders starting readers against Close: none starts after it.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (f *fanOutSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	stream := f.cfg.Prefix + topic
	start := "0-0"
	last, err := f.cfg.Client.XRevRangeN(ctx, stream, "+", "-", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("read the last id of %s: %w", stream, err)
	}
	if len(last) == 1 {
		start = last[0].ID
	}
	out := make(chan *message.Message, fanOutBatch)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("redis fan-out subscriber: closed")
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(out)
		f.read(ctx, stream, start, out)
	}()
	return out, nil
}

// read sends stream's entries after id from to out until ctx ends or the
// subscriber closes.
func (f *fanOutSubscriber) read(ctx context.Context, stream, from string, out chan<- *message.Message) {
	var unmarshal redisstream.DefaultMarshallerUnmarshaller
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.closing:
			return
		default:
		}
		res, err := f.cfg.Client.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, from}, Count: fanOutBatch, Block: fanOutBlock}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.logger.Error("bus: read a fan-out stream", "stream", stream, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-f.closing:
				return
			case <-time.After(fanOutRetry):
			}
			continue
		}
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
				select {
				case out <- msg:
				case <-ctx.Done():
					return
				case <-f.closing:
					return
				}
			}
		}
	}
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
