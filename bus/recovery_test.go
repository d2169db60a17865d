package bus_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/internal/backoff"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
)

// A work subscription whose stream and consumer group vanish (as when Redis
// restarts empty) creates them again and goes on taking work: a message
// published afterwards arrives.
func TestRedisWorkSubscriberRecreatesItsGroup(t *testing.T) {
	t.Parallel()
	cfg, pub := redisBus(t)
	client := cfg.Client
	sub, err := bus.NewRedisWorkSubscriber(cfg, "w1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(t.Context(), bus.TopicTasks)
	if err != nil {
		t.Fatal(err)
	}
	send := func(payload string) {
		t.Helper()
		if err := pub.Publish(bus.TopicTasks, message.NewMessage(watermill.NewUUID(), []byte(payload))); err != nil {
			t.Fatal(err)
		}
	}
	send("before")
	if m := receive(t, ch); string(m.Payload) != "before" {
		t.Fatalf("got %q", m.Payload)
	}
	if err := client.Del(t.Context(), cfg.Prefix+bus.TopicTasks).Err(); err != nil {
		t.Fatal(err)
	}
	// Until the subscription has met NOGROUP and created the group again,
	// a message published to the new stream waits there (the group reads
	// the stream from its start): it arrives either way.
	send("after")
	if m := receive(t, ch); string(m.Payload) != "after" {
		t.Fatalf("got %q after the stream was lost", m.Payload)
	}
	groups, err := client.XInfoGroups(t.Context(), cfg.Prefix+bus.TopicTasks).Result()
	if err != nil || len(groups) != 1 || groups[0].Name != bus.WorkersGroup {
		t.Fatalf("groups on the new stream: %+v, %v", groups, err)
	}
	// The outage was counted, and is over: the metrics say so.
	testwait.For(t, "the work stream's reads to count as working again", func() bool {
		for _, c := range backoff.Snapshot() {
			if c.What == "bus: read the work stream" {
				return c.Outages >= 1 && c.Failing == 0
			}
		}
		return false
	})
}

// A relay watching the bus recovers once when it starts on a new Redis and
// once each time the bus loses its messages, and not otherwise.
func TestRelayRecoversWhatTheBusLost(t *testing.T) {
	t.Parallel()
	cfg, pub := redisBus(t)
	client := cfg.Client
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var recoveries, checks atomic.Int32
	lost := bus.NewRedisLossCheck(cfg)
	relay := bus.NewRelay(s, pub, bus.FileCheckpoint{Path: filepath.Join(t.TempDir(), "cp")}, nil).WatchLoss(bus.LossWatch{
		Lost:     func(ctx context.Context) (bool, error) { defer checks.Add(1); return lost(ctx) },
		Recover:  func(context.Context) error { recoveries.Add(1); return nil },
		Interval: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("relay stopped with %v", err)
		}
	}()

	testwait.For(t, "the first recovery, on a new Redis", func() bool { return recoveries.Load() == 1 })
	appendTask(t, s) // the relay goes on publishing meanwhile
	after := checks.Load()
	testwait.For(t, "five more checks", func() bool { return checks.Load() >= after+5 })
	if n := recoveries.Load(); n != 1 {
		t.Fatalf("%d recoveries while the bus lost nothing", n)
	}
	keys, err := client.Keys(t.Context(), cfg.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Del(t.Context(), keys...).Err(); err != nil { // what a restart of Redis does
		t.Fatal(err)
	}
	testwait.For(t, "a recovery after the bus lost its keys", func() bool { return recoveries.Load() == 2 })
}

// A live subscription whose Redis restarts empty delivers a resync message
// once its reads work again, then what is published on the new stream,
// even when the new stream's ids sort before the last id it read.
func TestRedisLiveSubscriberAcrossARestart(t *testing.T) {
	t.Parallel()
	srv := testredis.StartOwned(t)
	opts, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	cfg := bus.RedisConfig{Client: client, Prefix: "live:"}
	pub, err := bus.NewRedisPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := bus.NewRedisLiveSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(t.Context(), "topic")
	if err != nil {
		t.Fatal(err)
	}
	// An entry from the far future: ids on the new stream sort before it.
	values, err := redisstream.DefaultMarshallerUnmarshaller{}.Marshal("topic", message.NewMessage(watermill.NewUUID(), []byte("future")))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.XAdd(t.Context(), &redis.XAddArgs{Stream: "live:topic", ID: "99999999999999-0", Values: values}).Err(); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); string(m.Payload) != "future" {
		t.Fatalf("got %q", m.Payload)
	}
	srv.Kill()
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); !bus.IsResync(m) {
		t.Fatalf("after the restart, got %q before a resync message", m.Payload)
	}
	if err := pub.Publish("topic", message.NewMessage(watermill.NewUUID(), []byte("after"))); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); string(m.Payload) != "after" || bus.IsResync(m) {
		t.Fatalf("after the resync, got %q", m.Payload)
	}
}

// redisBus returns the bus of a key prefix of the test's own on the test
// Redis, and a publisher on it.
func redisBus(t *testing.T) (bus.RedisConfig, message.Publisher) {
	t.Helper()
	cfg := bus.RedisConfig{Client: testredis.Client(t), Prefix: testredis.Prefix(t)}
	pub, err := bus.NewRedisPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, pub
}
