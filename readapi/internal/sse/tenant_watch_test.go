package sse_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/internal/testwait"
)

// A tenant's watch hears the positions of its tenant's relayed events
// only, wakes its waiters when it does and when the bus may have lost
// messages, and ends with its last watcher.
func TestTenantWatch(t *testing.T) {
	t.Parallel()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	hub := runHub(t, pubsub)
	publish := func(m *message.Message) {
		t.Helper()
		if err := pubsub.Publish(bus.TopicEvents, m); err != nil {
			t.Fatal(err)
		}
	}
	relayed := func(tenant, pos string) *message.Message {
		m := message.NewMessage(watermill.NewUUID(), nil)
		m.Metadata.Set(bus.MetaTenantID, tenant)
		m.Metadata.Set(bus.MetaPosition, pos)
		return m
	}

	a, leaveA := hub.WatchTenant("a")
	b, leaveB := hub.WatchTenant("b")
	defer leaveB()
	woken := a.Wait()
	publish(relayed("b", "5"))
	publish(relayed("c", "6"))
	publish(relayed("a", "7"))
	<-woken
	// The in-process bus delivers in the background, not always in order.
	testwait.For(t, "a to hear position 7", func() bool { return a.Heard() == 8 })
	testwait.For(t, "b to hear position 5", func() bool { return b.Heard() == 6 })

	woken = a.Wait()
	resync := message.NewMessage(watermill.NewUUID(), nil)
	resync.Metadata.Set(bus.MetaResync, "1")
	publish(resync)
	<-woken
	if a.Resyncs() != 1 || a.Heard() != 8 {
		t.Errorf("after a resync: %d resyncs, heard %d; want 1 and 8", a.Resyncs(), a.Heard())
	}

	leaveA()
	again, leave := hub.WatchTenant("a")
	defer leave()
	if again.Heard() != 0 || again.Resyncs() != 0 {
		t.Errorf("a watch begun after the last one ended heard %d, %d resyncs; want a fresh one", again.Heard(), again.Resyncs())
	}
}
