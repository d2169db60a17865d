package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
)

// Topics. Their names are part of the deployment and never change.
const (
	// TopicEvents carries every committed event, as its JSON envelope.
	TopicEvents = "axontask.events"
	// TopicTasks carries a Work message for every task.queued.
	TopicTasks = "axontask.tasks"
	// TopicControl carries a Control message for every task.cancel_requested,
	// and the hold messages of cancels about to be requested (ActionHold).
	TopicControl = "axontask.control"
	// TopicLive names the LivePartitions topics that carry each append's
	// events right after its commit, ahead of the feed (see Announcer): the
	// fast path to SSE hubs. They can miss an append (a process dying
	// between commit and publish); TopicEvents misses nothing.
	TopicLive = "axontask.live"
)

// LivePartitions is how many topics TopicLive is split into (by stream),
// so that a hub reads them in parallel: Watermill's Redis subscriber reads
// one message per round trip, and a burst of appends would otherwise queue
// behind one reader. Each stream's appends stay in one partition, in order.
const LivePartitions = 8

// LiveTopics lists the partitions of TopicLive.
func LiveTopics() []string {
	topics := make([]string, LivePartitions)
	for i := range topics {
		topics[i] = TopicLive + "." + strconv.Itoa(i)
	}
	return topics
}

// liveTopic is the partition of TopicLive that carries streamID's appends.
func liveTopic(streamID string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(streamID))
	return TopicLive + "." + strconv.Itoa(int(h.Sum32()%LivePartitions))
}

// Message metadata keys.
const (
	MetaPosition = "position"
	MetaType     = "type"
	MetaStreamID = "stream_id"
	MetaTenantID = "tenant_id"
	// MetaSeq is the event's seq (TopicEvents) or the last seq of the
	// append (TopicLive).
	MetaSeq = "seq"
)

// Work asks a worker to claim and run a queued task. Position is the
// task.queued event's feed position, or domain.NoPosition when the
// Announcer sent it before the feed gave it one.
type Work struct {
	TaskID   uuid.UUID `json:"task_id"`
	TenantID string    `json:"tenant_id"`
	Attempt  int       `json:"attempt"`
	Position int64     `json:"position"`
}

// Control tells every worker about a task: ActionCancel or ActionHold.
// Position is as in Work; domain.NoPosition for a hold, which no event is
// behind.
type Control struct {
	Action   string    `json:"action"`
	TaskID   uuid.UUID `json:"task_id"`
	TenantID string    `json:"tenant_id"`
	Position int64     `json:"position"`
}

// Control actions.
const (
	// ActionCancel is the Control action of a cancel request: the worker
	// running the task stops it.
	ActionCancel = "cancel"
	// ActionHold asks the worker running the task to hold the task's output
	// back for a moment: the cancel command is about to append a cancel
	// request, which must not keep losing the race for the stream's head to
	// the task's output (see PublishHold).
	ActionHold = "hold"
)

// PublishHold publishes a hold of a task's output (ActionHold) on
// TopicControl. The cancel command publishes it, not the relay: no event
// is behind it, and a hold that is lost costs only the race it would have
// spared.
func PublishHold(pub message.Publisher, taskID uuid.UUID, tenantID string) error {
	payload, err := json.Marshal(Control{Action: ActionHold, TaskID: taskID, TenantID: tenantID, Position: domain.NoPosition})
	if err != nil {
		return err
	}
	m := message.NewMessage(uuid.NewString(), payload)
	m.Metadata.Set(MetaTenantID, tenantID)
	if err := pub.Publish(TopicControl, m); err != nil {
		return fmt.Errorf("publish a hold of task %s: %w", taskID, err)
	}
	return nil
}

// HoldFunc returns the cancel command's HoldOutput for pub: it publishes
// the hold and logs to logger (nil: slog.Default()) a hold it could not
// publish; the cancel goes on without it.
func HoldFunc(pub message.Publisher, logger *slog.Logger) func(context.Context, uuid.UUID, string) {
	if logger == nil {
		logger = slog.Default()
	}
	return func(ctx context.Context, taskID uuid.UUID, tenantID string) {
		if err := PublishHold(pub, taskID, tenantID); err != nil {
			logger.WarnContext(ctx, "cancel: could not ask the task's worker to hold its output; the cancel may lose to the task's output", "task_id", taskID, "err", err)
		}
	}
}

// eventMessage renders an event for TopicEvents. The message id is the
// event id, so a republished event is recognizable.
func eventMessage(e *domain.Event) (*message.Message, error) {
	payload, err := e.AppendJSON(nil)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.EventID, err)
	}
	m := newMessage(e, payload)
	m.Metadata.Set(MetaType, string(e.Type))
	m.Metadata.Set(MetaStreamID, e.StreamID)
	m.Metadata.Set(MetaSeq, strconv.FormatInt(e.Seq, 10))
	return m, nil
}

// jsonMessage renders a Work or Control message, id'd by the event behind it.
func jsonMessage(e *domain.Event, v any) (*message.Message, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return newMessage(e, payload), nil
}

// newMessage is a message about event e, id'd by it, with its position and tenant.
func newMessage(e *domain.Event, payload []byte) *message.Message {
	m := message.NewMessage(e.EventID.String(), payload)
	m.Metadata.Set(MetaPosition, strconv.FormatInt(e.Position, 10))
	m.Metadata.Set(MetaTenantID, e.TenantID)
	return m
}

// DecodeEvent parses a TopicEvents message back into the event.
func DecodeEvent(m *message.Message) (domain.Event, error) {
	var e domain.Event
	if err := e.UnmarshalJSON(m.Payload); err != nil {
		return domain.Event{}, fmt.Errorf("decode event message %s: %w", m.UUID, err)
	}
	return e, nil
}

// DecodeWork parses a TopicTasks message.
func DecodeWork(m *message.Message) (Work, error) {
	var w Work
	if err := json.Unmarshal(m.Payload, &w); err != nil {
		return Work{}, fmt.Errorf("decode work message %s: %w", m.UUID, err)
	}
	return w, nil
}

// DecodeControl parses a TopicControl message.
func DecodeControl(m *message.Message) (Control, error) {
	var c Control
	if err := json.Unmarshal(m.Payload, &c); err != nil {
		return Control{}, fmt.Errorf("decode control message %s: %w", m.UUID, err)
	}
	return c, nil
}

// Outgoing is a message and the topic it is published to.
type Outgoing struct {
	Topic string
	Msg   *message.Message
}

// BatchPublisher is a publisher that publishes many messages, each to its
// topic, in one round trip (the Redis bus pipelines them).
type BatchPublisher interface {
	PublishBatch(ctx context.Context, msgs []Outgoing) error
}

// Announcements is a publisher that remembers for a while which Work
// messages the announcer published, so that the relay, which follows the
// feed a little later, need not publish them again: a second Work message
// costs a worker a failed claim (a read of the task's stream). The Redis
// bus is one.
type Announcements interface {
	// PublishAnnounced publishes msgs as PublishAll does, and marks their
	// Work messages (TopicTasks) announced, by their ids, only with them.
	PublishAnnounced(ctx context.Context, msgs []Outgoing) error
	// Announced reports, for each of eventIDs, whether the Work message of
	// that task.queued event is marked announced.
	Announced(ctx context.Context, eventIDs []string) ([]bool, error)
}

// PublishAll publishes msgs in order, each to its topic: in one round trip
// when pub is a BatchPublisher, else with one Publish each. When it fails,
// some of msgs may be published.
func PublishAll(ctx context.Context, pub message.Publisher, msgs []Outgoing) error {
	if len(msgs) == 0 {
		return nil
	}
	if b, ok := pub.(BatchPublisher); ok {
		return b.PublishBatch(ctx, msgs)
	}
	for _, o := range msgs {
		if err := pub.Publish(o.Topic, o.Msg); err != nil {
			return err
		}
	}
	return nil
}
