package sse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/axontask/axontask/bus"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/broadcast"
)

// Bounds of one stream's queue of live frames (HubConfig).
const (
	// DefaultQueueFrames bounds the frames queued for one stream.
	DefaultQueueFrames = 1024
	// DefaultQueueBytes bounds the bytes of the frames queued for one stream.
	DefaultQueueBytes = 8 << 20
)

// HubConfig configures a Hub.
type HubConfig struct {
	// Subscriber must be a fan-out subscriber: this process sees every
	// message of bus.LiveTopics and bus.TopicEvents (on Redis,
	// bus.NewRedisLiveSubscriber, whose resync messages after an outage
	// have every stream look in the store; in one process, a GoChannel).
	Subscriber message.Subscriber
	// QueueFrames and QueueBytes bound what one stream may fall behind the
	// live tail before its client is judged too slow and the stream is
	// closed, for the client to resume from its last event id (defaults
	// DefaultQueueFrames and DefaultQueueBytes).
	QueueFrames, QueueBytes int
	// Logger receives the hub's operational logs (default slog.Default()).
	Logger *slog.Logger
}

// Hub fans live events out to the SSE streams open on this process. It
// reads each event once from the bus, renders its frame once, and hands it
// to every stream of its task without ever waiting for one: a stream that
// lets its queue overflow is closed, not waited for.
//
// The hub makes no promise of order or completeness: messages from
// bus.TopicLive come first, the same events from bus.TopicEvents come again
// later, and either may be missing. Each stream reads its own events by seq
// and fills any gap from the store, so what a client receives is exactly
// the task's events in order.
type Hub struct {
	cfg     HubConfig
	mu      sync.RWMutex
	streams map[string]*hubStream
	tenants map[string]*TenantWatch
	subs    []subscription
	done    chan struct{}
	// ctx bounds what parked streams do; it ends when Run returns.
	ctx    context.Context
	cancel context.CancelFunc

	// workers counts the goroutines of parked streams; closing refuses
	// new ones once Run is ending.
	workMu  sync.Mutex
	closing bool
	workers sync.WaitGroup
}

// hubStream is the streams of one task's events, and the highest seq the
// hub handed them (to skip decoding repeated events).
type hubStream struct {
	streams map[*stream]struct{}
	lastSeq int64
}

// NewHub returns a hub; call Subscribe, then Run.
func NewHub(cfg HubConfig) (*Hub, error) {
	if cfg.Subscriber == nil {
		return nil, errors.New("hub config: Subscriber is nil")
	}
	if cfg.QueueFrames < 0 || cfg.QueueBytes < 0 {
		return nil, errors.New("hub config: queue bounds must not be negative")
	}
	if cfg.QueueFrames == 0 {
		cfg.QueueFrames = DefaultQueueFrames
	}
	if cfg.QueueBytes == 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{cfg: cfg, streams: make(map[string]*hubStream), tenants: make(map[string]*TenantWatch), done: make(chan struct{}), ctx: ctx, cancel: cancel}, nil
}

// Subscribe subscribes the hub to the bus until ctx ends. Serve no stream
// before it returns: events published before it would not reach the hub.
func (h *Hub) Subscribe(ctx context.Context) error {
	for _, topic := range append(bus.LiveTopics(), bus.TopicEvents) {
		ch, err := h.cfg.Subscriber.Subscribe(ctx, topic)
		if err != nil {
			return fmt.Errorf("hub: subscribe to %s: %w", topic, err)
		}
		decode := bus.DecodeLive
		if topic == bus.TopicEvents {
			decode = decodeOne
		}
		h.subs = append(h.subs, subscription{ch, decode})
	}
	return nil
}

// subscription is one topic the hub reads, and how its messages decode.
type subscription struct {
	messages <-chan *message.Message
	decode   func(*message.Message) ([]domain.Event, error)
}

// Run hands what Subscribe subscribed to to the streams, one goroutine per
// topic, until ctx ends or the subscriptions close; then every stream still
// open ends, and its client resumes elsewhere or later. It returns once
// the goroutines of parked streams have.
func (h *Hub) Run(ctx context.Context) error {
	if h.subs == nil {
		return errors.New("hub: Run before Subscribe")
	}
	defer h.stop()
	var wg sync.WaitGroup
	for _, s := range h.subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case m, ok := <-s.messages:
					if !ok {
						return
					}
					h.receive(m, s.decode)
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// stop ends every parked stream (streams still in their handler end on
// done) and waits for their goroutines.
func (h *Hub) stop() {
	h.cancel()
	close(h.done)
	h.workMu.Lock()
	h.closing = true
	h.workMu.Unlock()
	open := h.openStreams()
	for _, s := range open {
		s.mu.Lock()
		parked := s.conn != nil
		s.mu.Unlock()
		if parked {
			s.end(nil)
		}
	}
	h.workers.Wait()
}

// spawn runs f on a goroutine of its own that Run waits for, unless Run is
// ending; it reports whether f runs.
func (h *Hub) spawn(f func()) bool {
	h.workMu.Lock()
	defer h.workMu.Unlock()
	if h.closing {
		return false
	}
	h.workers.Add(1)
	go func() {
		defer h.workers.Done()
		f()
	}()
	return true
}

func decodeOne(m *message.Message) ([]domain.Event, error) {
	e, err := bus.DecodeEvent(m)
	if err != nil {
		return nil, err
	}
	return []domain.Event{e}, nil
}

// receive hands m's events to the streams of their task, if any.
// Messages are decoded only when someone listens and they hold news.
func (h *Hub) receive(m *message.Message, decode func(*message.Message) ([]domain.Event, error)) {
	m.Ack()
	if bus.IsResync(m) {
		h.resync()
		return
	}
	h.announce(m)
	streamID := m.Metadata.Get(bus.MetaStreamID)
	seq, err := strconv.ParseInt(m.Metadata.Get(bus.MetaSeq), 10, 64)
	if err != nil {
		h.cfg.Logger.Warn("hub: message without a seq", "message_id", m.UUID)
		return
	}
	h.mu.RLock()
	s := h.streams[streamID]
	news := s != nil && seq > s.lastSeq
	h.mu.RUnlock()
	if !news {
		return
	}
	events, err := decode(m)
	if err != nil {
		h.cfg.Logger.Warn("hub: drop undecodable message", "err", err)
		return
	}
	frames := make([]frame, 0, len(events))
	for i := range events {
		f, err := newFrame(&events[i])
		if err != nil {
			h.cfg.Logger.Warn("hub: drop unrenderable event", "err", err)
			return
		}
		frames = append(frames, f)
	}
	h.mu.Lock()
	if s = h.streams[streamID]; s == nil {
		h.mu.Unlock()
		return
	}
	s.lastSeq = max(s.lastSeq, seq)
	targets := make([]*stream, 0, len(s.streams))
	for st := range s.streams {
		targets = append(targets, st)
	}
	h.mu.Unlock()
	// Outside the lock: a push may write to its client. A stream that
	// registers meanwhile reads this event from the store.
	for _, st := range targets {
		st.push(frames, h.cfg.QueueFrames, h.cfg.QueueBytes)
	}
}

// resync has every open stream read the store for what it may have
// missed: the bus says messages may have been lost (Redis was away).
func (h *Hub) resync() {
	open := h.openStreams()
	for _, s := range open {
		s.lookNow()
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, w := range h.tenants {
		w.resyncs.Add(1)
		w.head.Wake()
	}
}

// TenantWatch is what the hub has heard of one tenant's feed, for the
// streams of GET /v1/events: one past the highest feed position of the
// tenant's events that reached it on bus.TopicEvents (the relay publishes
// them once sealed). It makes no promise of completeness: a stream reads
// the store, and its Wait channel also closes when the bus may have lost
// messages. It is safe for concurrent use.
type TenantWatch struct {
	head     broadcast.Head
	resyncs  atomic.Int64
	watchers int // under Hub.mu
}

// Heard returns one past the highest position heard of (0: none).
func (w *TenantWatch) Heard() int64 { return w.head.Load() }

// Resyncs counts the times the bus may have lost messages since the watch
// began.
func (w *TenantWatch) Resyncs() int64 { return w.resyncs.Load() }

// Wait returns a channel closed when Heard grows or Resyncs does. Take it
// before reading them, so that nothing is missed.
func (w *TenantWatch) Wait() <-chan struct{} { return w.head.Wait() }

// WatchTenant returns the watch of tenantID's feed events; call it before
// reading the tenant's feed from the store, so that nothing committed after
// that read goes unheard, and call leave when done.
func (h *Hub) WatchTenant(tenantID string) (w *TenantWatch, leave func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w = h.tenants[tenantID]
	if w == nil {
		w = &TenantWatch{}
		h.tenants[tenantID] = w
	}
	w.watchers++
	return w, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if w.watchers--; w.watchers == 0 {
			delete(h.tenants, tenantID)
		}
	}
}

// announce tells the watch of m's tenant, if any, of m's feed position:
// messages of bus.TopicEvents carry both (the live topics' neither).
func (h *Hub) announce(m *message.Message) {
	tenantID := m.Metadata.Get(bus.MetaTenantID)
	if tenantID == "" {
		return
	}
	h.mu.RLock()
	w := h.tenants[tenantID]
	h.mu.RUnlock()
	if w == nil {
		return
	}
	if pos, err := strconv.ParseInt(m.Metadata.Get(bus.MetaPosition), 10, 64); err == nil && pos >= 0 {
		w.head.Advance(pos + 1)
	}
}

// openStreams lists the streams registered now.
func (h *Hub) openStreams() []*stream {
	var open []*stream
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, hs := range h.streams {
		for s := range hs.streams {
			open = append(open, s)
		}
	}
	return open
}

// listen registers s for its task's events. Call it before reading the
// stream from the store, so that nothing appended after that read is
// missed; leave when done.
func (h *Hub) listen(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.streams[s.streamID]
	if hs == nil {
		hs = &hubStream{streams: make(map[*stream]struct{})}
		h.streams[s.streamID] = hs
	}
	hs.streams[s] = struct{}{}
}

// leave unregisters s.
func (h *Hub) leave(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.streams[s.streamID]
	if hs == nil {
		return
	}
	delete(hs.streams, s)
	if len(hs.streams) == 0 {
		delete(h.streams, s.streamID)
	}
}

// Streams returns the number of streams open on this process.
func (h *Hub) Streams() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, hs := range h.streams {
		n += len(hs.streams)
	}
	return n
}

// stopped is closed when Run returns.
func (h *Hub) stopped() <-chan struct{} { return h.done }

// frame is one event rendered as an SSE frame, shared by every listener.
type frame struct {
	seq      int64
	terminal bool
	bytes    []byte
}

func newFrame(e *domain.Event) (frame, error) {
	b, err := appendFrame(nil, e)
	if err != nil {
		return frame{}, err
	}
	return frame{seq: e.Seq, terminal: e.Type.Terminal(), bytes: b}, nil
}
