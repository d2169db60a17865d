package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

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

func (c RedisConfig) logger() watermill.LoggerAdapter {
	l := c.Logger
	if l == nil {
		l = slog.Default()
	}
	return watermill.NewSlogLoggerWithLevelMapping(l, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
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

// NewRedisFanOutSubscriber returns a subscriber that sees every message
// published after it subscribes (no consumer group): for cancels, which
// every worker must see.
//
// Each Subscribe starts after the stream's last entry at that moment, by
// its id. (Starting from "$" would lose what is published between two reads
// until the first message arrives: the library reads "$" afresh each time.)
func NewRedisFanOutSubscriber(c RedisConfig) (message.Subscriber, error) {
	if c.Client == nil {
		return nil, fmt.Errorf("redis fan-out subscriber: no client")
	}
	return &fanOutSubscriber{cfg: c}, nil
}

type fanOutSubscriber struct {
	cfg  RedisConfig
	mu   sync.Mutex
	subs []*redisstream.Subscriber
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
	s, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client: f.cfg.Client, FanOutOldestId: start, DisableIndefiniteInitialBlock: true,
	}, f.cfg.logger())
	if err != nil {
		return nil, fmt.Errorf("redis fan-out subscriber: %w", err)
	}
	f.mu.Lock()
	f.subs = append(f.subs, s)
	f.mu.Unlock()
	return s.Subscribe(ctx, stream)
}

func (f *fanOutSubscriber) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, s := range f.subs {
		errs = append(errs, s.Close())
	}
	f.subs = nil
	return errors.Join(errs...)
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
