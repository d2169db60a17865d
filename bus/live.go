package bus

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/backoff"
)

// Announcer publishes what each append committed the moment it commits,
// without waiting for the feed to give the events positions (on Postgres
// the sealer does that a few milliseconds later): the events on their
// partition of TopicLive for SSE hubs, and the Work and Control messages they ask for, so that a
// worker starts a task or stops it at once. The relay publishes all of it
// again from the feed; consumers are idempotent, so the second copy is only
// a backstop for an announcement lost to a crash or a Redis hiccup. On a
// bus with Announcements (Redis), the relay skips the Work messages the
// announcer marked there, each of which would cost a worker a failed claim.
//
// Set its Committed method as eventstore.Options.Committed.
type Announcer struct {
	pub    message.Publisher
	logger *slog.Logger
	// down logs an outage of the bus once, not once per append.
	down *backoff.Retry
}

// NewAnnouncer returns an announcer publishing to pub.
func NewAnnouncer(pub message.Publisher, logger *slog.Logger) *Announcer {
	if logger == nil {
		logger = slog.Default()
	}
	return &Announcer{pub: pub, logger: logger, down: &backoff.Retry{Dependency: backoff.DependencyBus, What: "announcer: publish appends", Meanwhile: "the relay delivers them from the feed", Logger: logger}}
}

// Committed announces events, the events of one append. A failure is
// logged, not returned: the relay will publish the events anyway.
func (a *Announcer) Committed(ctx context.Context, events []domain.Event) {
	if len(events) == 0 {
		return
	}
	// Published even when the appender's caller has gone: the append
	// committed.
	err := a.publish(context.WithoutCancel(ctx), events)
	if err != nil {
		a.down.Note(ctx, err)
		return
	}
	a.down.Succeeded()
}

// publish publishes events on their partition of TopicLive and the Work
// and Control messages they ask for, in one round trip when the bus can.
func (a *Announcer) publish(ctx context.Context, events []domain.Event) error {
	m, err := liveMessage(events)
	if err != nil {
		return err
	}
	out := []Outgoing{{liveTopic(events[0].StreamID), m}}
	for i := range events {
		topic, tm, err := taskMessage(&events[i])
		if err != nil {
			return err
		}
		if tm != nil {
			out = append(out, Outgoing{topic, tm})
		}
	}
	if marks, ok := a.pub.(Announcements); ok {
		return marks.PublishAnnounced(ctx, out)
	}
	return PublishAll(ctx, a.pub, out)
}

// liveMessage renders one append's events for TopicLive: their JSON
// envelopes, one per line. The message id is the first event's id.
func liveMessage(events []domain.Event) (*message.Message, error) {
	var payload []byte
	for i := range events {
		var err error
		if payload, err = events[i].AppendJSON(payload); err != nil {
			return nil, fmt.Errorf("encode event %s: %w", events[i].EventID, err)
		}
		payload = append(payload, '\n')
	}
	first, last := &events[0], &events[len(events)-1]
	m := newMessage(first, payload)
	m.Metadata.Set(MetaStreamID, first.StreamID)
	m.Metadata.Set(MetaSeq, strconv.FormatInt(last.Seq, 10))
	return m, nil
}

// DecodeLive parses a TopicLive message back into its events.
func DecodeLive(m *message.Message) ([]domain.Event, error) {
	var events []domain.Event
	for line := range bytes.Lines(m.Payload) {
		var e domain.Event
		if err := e.UnmarshalJSON(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
			return nil, fmt.Errorf("decode live message %s: %w", m.UUID, err)
		}
		events = append(events, e)
	}
	return events, nil
}
