package bus_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/internal/testredis"
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
