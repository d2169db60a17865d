package bus_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/internal/testredis"
	"github.com/axontask/axontask/internal/testwait"
)

func TestMain(m *testing.M) { testredis.Main(m) }

// A fan-out subscription sees what is published after it subscribed, all
// of it and in order, also when it falls behind by more than one read's
// batch; every subscription sees everything; Close ends them.
func TestRedisFanOutSubscriber(t *testing.T) {
	t.Parallel()
	cfg := bus.RedisConfig{Client: testredis.Client(t), Prefix: testredis.Prefix(t)}
	pub, err := bus.NewRedisPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := pub.Publish("topic", message.NewMessage(watermill.NewUUID(), fmt.Appendf(nil, "%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(0, 10) // before: never seen
	sub, err := bus.NewRedisFanOutSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var chans []<-chan *message.Message
	for range 2 {
		ch, err := sub.Subscribe(t.Context(), "topic")
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	const n = 1000 // more than a read's batch, and than the channel holds
	publish(0, n)
	for i, ch := range chans {
		for want := range n {
			m := receive(t, ch)
			if got := string(m.Payload); got != fmt.Sprint(want) {
				t.Fatalf("subscription %d: message %d is %q", i, want, got)
			}
		}
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	for i, ch := range chans {
		select {
		case m, ok := <-ch:
			if ok {
				t.Fatalf("subscription %d: %q after Close", i, m.Payload)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscription %d: still open after Close", i)
		}
	}
	if _, err := sub.Subscribe(t.Context(), "topic"); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}

// PublishAll on the Redis bus pipelines its messages: each topic gets its
// own in order, and each entry is the one Watermill's Publish writes, so
// that Watermill's subscribers read both alike.
func TestRedisPublishAll(t *testing.T) {
	t.Parallel()
	cfg, pub := redisBus(t)
	client := cfg.Client
	if _, ok := pub.(bus.BatchPublisher); !ok {
		t.Fatal("the Redis publisher is no BatchPublisher")
	}
	sub, err := bus.NewRedisFanOutSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Close() }()
	chans := map[string]<-chan *message.Message{}
	for _, topic := range []string{"a", "b"} {
		if chans[topic], err = sub.Subscribe(t.Context(), topic); err != nil {
			t.Fatal(err)
		}
	}
	var out []bus.Outgoing
	for i := range 300 {
		m := message.NewMessage(fmt.Sprint("id-", i), fmt.Appendf(nil, "%d", i))
		m.Metadata.Set("n", fmt.Sprint(i))
		out = append(out, bus.Outgoing{Topic: []string{"a", "b"}[i%3/2], Msg: m})
	}
	if err := bus.PublishAll(t.Context(), pub, out); err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		m := receive(t, chans[o.Topic])
		if m.UUID != o.Msg.UUID || string(m.Payload) != string(o.Msg.Payload) || m.Metadata.Get("n") != o.Msg.Metadata.Get("n") {
			t.Fatalf("topic %s: got %s %q %v, want %s %q %v", o.Topic, m.UUID, m.Payload, m.Metadata, o.Msg.UUID, o.Msg.Payload, o.Msg.Metadata)
		}
	}

	// One message, published both ways: the same entry.
	m := message.NewMessage("same", []byte("payload"))
	m.Metadata.Set("k", "v")
	if err := pub.Publish("c", m); err != nil {
		t.Fatal(err)
	}
	if err := bus.PublishAll(t.Context(), pub, []bus.Outgoing{{Topic: "c", Msg: m}}); err != nil {
		t.Fatal(err)
	}
	entries, err := client.XRange(t.Context(), cfg.Prefix+"c", "-", "+").Result()
	if err != nil || len(entries) != 2 {
		t.Fatalf("stream c: %d entries (%v), want 2", len(entries), err)
	}
	if fmt.Sprint(entries[0].Values) != fmt.Sprint(entries[1].Values) {
		t.Fatalf("Publish wrote %v, PublishAll %v", entries[0].Values, entries[1].Values)
	}
}

// On Redis the relay skips the Work messages the announcer published
// (marked beside them), and publishes those it did not: each task gets
// one Work message, not two.
func TestRelaySkipsAnnouncedWork(t *testing.T) {
	t.Parallel()
	cfg, pub := redisBus(t)
	client := cfg.Client
	var announce atomic.Bool
	announcer := bus.NewAnnouncer(pub, nil)
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{
		Committed: func(ctx context.Context, events []domain.Event) {
			if announce.Load() {
				announcer.Committed(ctx, events)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	announce.Store(true)
	announced := appendTask(t, s)
	announce.Store(false)
	relayed := appendTask(t, s)
	// The announcer publishes in the background: the relay starts once it
	// has.
	testwait.For(t, "the announcer's publish", func() bool {
		n, err := client.XLen(t.Context(), cfg.Prefix+bus.TopicTasks).Result()
		return err == nil && n == 1
	})

	checkpoint := bus.FileCheckpoint{Path: filepath.Join(t.TempDir(), "relay.checkpoint")}
	ctx, cancel := context.WithCancel(t.Context())
	relayDone := make(chan error, 1)
	go func() { relayDone <- bus.NewRelay(s, pub, checkpoint, nil).Run(ctx) }()
	testwait.For(t, "the relay to publish the four events", func() bool {
		next, _ := checkpoint.Load(t.Context())
		return next == 4
	})
	cancel()
	if err := <-relayDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("relay stopped with %v", err)
	}
	entries, err := client.XRange(t.Context(), cfg.Prefix+bus.TopicTasks, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var tasks []string
	var unmarshal redisstream.DefaultMarshallerUnmarshaller
	for _, e := range entries {
		m, err := unmarshal.Unmarshal(e.Values)
		if err != nil {
			t.Fatal(err)
		}
		w, err := bus.DecodeWork(m)
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, w.TaskID.String())
	}
	if want := []string{announced, relayed}; !slices.Equal(tasks, want) {
		t.Fatalf("work messages for %v, want one for the announced task then one for the relayed (%v)", tasks, want)
	}
}

// The announcer publishes in the background, many appends a round trip:
// each stream's appends still reach its live partition once each, in
// commit order, also when many writers append at once.
func TestAnnouncerKeepsCommitOrder(t *testing.T) {
	t.Parallel()
	cfg, pub := redisBus(t)
	sub, err := bus.NewRedisFanOutSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Close() }()
	live := make(chan *message.Message, 1000)
	for _, topic := range bus.LiveTopics() {
		ch, err := sub.Subscribe(t.Context(), topic)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for m := range ch {
				live <- m
			}
		}()
	}
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{Committed: bus.NewAnnouncer(pub, nil).Committed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	const writers, appends = 4, 50
	var wg sync.WaitGroup
	streams := make([]string, writers)
	for w := range writers {
		streams[w] = appendTask(t, s) // seq 1 and 2
		wg.Go(func() {
			for i := range appends {
				p, _ := domain.MarshalPayload(&domain.TaskProgress{Percent: float64(i)})
				e := domain.NewEvent{EventID: uuid.New(), Type: domain.TaskProgressType, Payload: p, OccurredAt: time.Now()}
				if _, err := s.Append(t.Context(), eventstore.Stream{ID: streams[w], Type: domain.StreamTask, TenantID: "t"}, int64(2+i), []domain.NewEvent{e}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	next := map[string]int64{}
	for range writers * (1 + appends) {
		events, err := bus.DecodeLive(receive(t, live))
		if err != nil {
			t.Fatal(err)
		}
		id := events[0].StreamID
		if events[0].Seq != next[id]+1 {
			t.Fatalf("stream %s: an append from seq %d after seq %d", id, events[0].Seq, next[id])
		}
		next[id] = events[len(events)-1].Seq
	}
	for _, id := range streams {
		if next[id] != 2+appends {
			t.Fatalf("stream %s: announced up to seq %d, want %d", id, next[id], 2+appends)
		}
	}
}
