package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

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
// Committed only queues the append: one goroutine at a time publishes the
// queue, in commit order, everything queued in one round trip, so that
// an appender never waits for the bus and the appends of many writers
// share a round trip. The goroutine ends when the queue is empty.
//
// Set its Committed method as eventstore.Options.Committed.
type Announcer struct {
	pub    message.Publisher
	logger *slog.Logger
	// down logs an outage of the bus once, not once per append.
	down *backoff.Retry

	mu         sync.Mutex
	queue      [][]domain.Event // appends to publish, in commit order
	publishing bool             // a goroutine publishes the queue
}

// MaxAnnouncerQueue bounds the appends waiting to be announced: those
// that come while the queue is full are left to the relay.
const MaxAnnouncerQueue = 10_000

// announceBatch bounds the appends published in one round trip.
const announceBatch = 500

// announceTimeout bounds one round trip of announcements.
const announceTimeout = 10 * time.Second

// NewAnnouncer returns an announcer publishing to pub.
func NewAnnouncer(pub message.Publisher, logger *slog.Logger) *Announcer {
	if logger == nil {
		logger = slog.Default()
	}
	return &Announcer{pub: pub, logger: logger, down: &backoff.Retry{Dependency: backoff.DependencyBus, What: "announcer: publish appends", Meanwhile: "the relay delivers them from the feed", Logger: logger}}
}

// Committed queues events, the events of one append, to be announced. A
// failure is logged, not returned: the relay will publish the events
// anyway.
func (a *Announcer) Committed(_ context.Context, events []domain.Event) {
	if len(events) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) >= MaxAnnouncerQueue {
		return // the bus is that far behind: the relay delivers them
	}
	a.queue = append(a.queue, events)
	if !a.publishing {
		a.publishing = true
		go a.publishQueue()
	}
}

// publishQueue publishes the queue until it is empty.
func (a *Announcer) publishQueue() {
	for {
		a.mu.Lock()
		n := min(len(a.queue), announceBatch)
		if n == 0 {
			a.queue, a.publishing = nil, false
			a.mu.Unlock()
			return
		}
		appends := a.queue[:n:n]
		a.queue = a.queue[n:]
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), announceTimeout)
		if err := a.publish(ctx, appends); err != nil {
			a.down.Note(ctx, err)
		} else {
			a.down.Succeeded()
		}
		cancel()
	}
}

// publish publishes each append's events on their partition of TopicLive
// and the Work and Control messages they ask for, in one round trip when
// the bus can. An append that cannot be rendered is left to the relay,
// which fails on it loudly.
func (a *Announcer) publish(ctx context.Context, appends [][]domain.Event) error {
	var out []Outgoing
	var bad error
	for _, events := range appends {
		var err error
		out, err = appendAnnouncement(out, events)
		bad = errors.Join(bad, err)
	}
	var err error
	if marks, ok := a.pub.(Announcements); ok {
		err = marks.PublishAnnounced(ctx, out)
	} else {
		err = PublishAll(ctx, a.pub, out)
	}
	return errors.Join(bad, err)
}

// appendAnnouncement appends to out what the announcer publishes of one
// append: its live message and the Work and Control messages its events
// ask for. What cannot be rendered is left out, with its error.
func appendAnnouncement(out []Outgoing, events []domain.Event) ([]Outgoing, error) {
	m, err := liveMessage(events)
	if err == nil {
		out = append(out, Outgoing{liveTopic(events[0].StreamID), m})
	}
	for i := range events {
		topic, tm, terr := taskMessage(&events[i])
		if tm != nil {
			out = append(out, Outgoing{topic, tm})
		}
		err = errors.Join(err, terr)
	}
	return out, err
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
