package bus

import (
	"context"
	"fmt"
	"log/slog"

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
// published from now on (no consumer group): for cancels, which every
// worker must see.
func NewRedisFanOutSubscriber(c RedisConfig) (message.Subscriber, error) {
	s, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client: c.Client, FanOutOldestId: "$", DisableIndefiniteInitialBlock: true,
	}, c.logger())
	if err != nil {
		return nil, fmt.Errorf("redis fan-out subscriber: %w", err)
	}
	return prefixedSubscriber{s, c.Prefix}, nil
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
